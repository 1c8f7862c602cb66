"""Pacing of a Kafka run: ``--rate`` (events per second) and ``--speedup`` (event time vs wall).

A slice of records may go once both allow it: ``sent / rate`` seconds after the start, and the
slice's first event time (from the run's first local midnight) divided by ``speedup``. Without
either flag nothing waits. Pacing changes when records are sent, never which.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """Waits, in short sleeps that notice a stop request, until the next slice may go."""

    def __init__(
        self, rate: float | None, speedup: float | None, start_ms: int, started: float
    ) -> None:
        self.rate = rate
        self.speedup = speedup
        self.start_ms = start_ms
        """UTC ms of the run's first local midnight (event time zero for ``speedup``)."""
        self.started = started
        """``time.monotonic()`` at the start of the run."""

    def due(self, sent: int, event_ms: int) -> float:
        """Seconds after the start at which a slice may go, ``sent`` records in, at ``event_ms``."""
        target = 0.0
        if self.rate is not None:
            target = sent / self.rate
        if self.speedup is not None:
            target = max(target, (event_ms - self.start_ms) / 1000.0 / self.speedup)
        return target

    def wait(self, sent: int, event_ms: int, stopped: Callable[[], bool]) -> None:
        """Sleep until :meth:`due` (at most 0.2 s at a time, returning early once ``stopped()``)."""
        if self.rate is None and self.speedup is None:
            return
        target = self.due(sent, event_ms)
        while not stopped() and (wait := target - (time.monotonic() - self.started)) > 0:
            time.sleep(min(wait, 0.2))
