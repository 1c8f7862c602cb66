"""Pacing of a Kafka run: when a slice may go under ``--rate`` and ``--speedup`` (pure logic)."""

from __future__ import annotations

import time

import pytest

from streamflow.generator import pacing
from streamflow.generator.pacing import Pacer

START_MS = 1_790_000_000_000


def test_without_flags_nothing_is_due_later_and_nothing_waits() -> None:
    pacer = Pacer(None, None, START_MS, started=time.monotonic() + 3600)
    assert pacer.due(1_000_000, START_MS + 86_400_000) == 0.0
    pacer.wait(1_000_000, START_MS + 86_400_000, stopped=lambda: False)  # returns at once


def test_the_later_of_rate_and_speedup_applies() -> None:
    both = Pacer(100.0, 60.0, START_MS, started=0.0)
    assert both.due(500, START_MS + 60_000) == 5.0  # rate: 500 records at 100/s
    assert both.due(50, START_MS + 600_000) == 10.0  # speedup: 600 s of event time at 60x
    assert Pacer(100.0, None, START_MS, 0.0).due(50, START_MS + 600_000) == 0.5
    assert Pacer(None, 60.0, START_MS, 0.0).due(500, START_MS + 60_000) == 1.0


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` of the pacing module: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_waits_until_due_in_short_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    Pacer(1000.0, None, START_MS, started=clock.now).wait(500, START_MS, stopped=lambda: False)
    assert clock.now == pytest.approx(100.5)
    assert max(clock.sleeps) <= 0.2


def test_a_stop_request_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", clock)
    looks: list[int] = []

    def stop_on_second_look() -> bool:
        looks.append(1)
        return len(looks) > 1

    Pacer(0.001, None, START_MS, clock.now).wait(1, START_MS, stopped=stop_on_second_look)  # 1000 s
    assert clock.sleeps == [0.2]
