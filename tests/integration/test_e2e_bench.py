"""The pure helpers of bench/e2e.py: /proc CPU accounting, percentiles, the transaction template.

The benchmark itself runs in ``make bench`` (no timing assertions here); these tests pin down the
parts whose mistakes would silently skew its figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from streamflow.events import Transaction, decode
from tests.integration.bench_modules import bench_module


@pytest.fixture(scope="module")
def e2e() -> ModuleType:
    """bench/e2e.py imported as a module (bench/ is scripts, not a package)."""
    return bench_module("e2e")


def test_tree_cpu_counts_a_busy_child(e2e: ModuleType) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.6\n"
         "while time.process_time() < end: pass\ntime.sleep(30)"],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        spent = 0.0
        while time.monotonic() < deadline:
            table = e2e.process_table()
            if child.pid in e2e.tree(os.getpid(), table):
                spent = e2e.tree_cpu_s(child.pid, table)
                if spent >= 0.5:
                    break
            time.sleep(0.2)
        assert spent >= 0.5
        table = e2e.process_table()
        assert e2e.tree_cpu_s(os.getpid(), table) >= spent
        assert e2e.tree_cpu_s(os.getpid(), table, match="no such command line") == 0.0
    finally:
        child.kill()
        child.wait()


def test_read_proc_of_a_gone_process_is_none(e2e: ModuleType) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert e2e.read_proc(child.pid) is None


def test_percentiles_are_nearest_rank_in_ms(e2e: ModuleType) -> None:
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert e2e.percentile_ms(values, 0.5) == 51.0
    assert e2e.percentile_ms(values, 0.99) == 100.0
    assert e2e.percentile_ms([], 0.99) is None


def test_template_transactions_are_valid_contract_records(e2e: ModuleType) -> None:
    sent: list[bytes] = []

    class Capture:
        def produce(self, _topic: str, key: bytes, value: bytes, **_: object) -> None:
            sent.append(value)

    sender = e2e.Sender(e2e.KafkaSettings(), "raw")
    sender.producer = Capture()  # the record as it would be produced, without a broker
    tid = sender.send(4200, "2026-11-22T06:00:00Z", None)
    txn = decode(Transaction, sent[0])
    assert txn.transaction_id == tid
    assert txn.customer_id == e2e.Sender.customer(4200)
    assert e2e.Sender.blacklisted(txn.customer_id)
    assert not e2e.Sender.blacklisted(e2e.Sender.customer(4201))


def test_versus_scorer_alone_takes_only_the_same_runs_result(
    e2e: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = tmp_path / "scorer_flink.json"
    monkeypatch.setattr(e2e, "SCORER_ALONE", alone)
    assert e2e.versus_scorer_alone(6_000.0, time.time()) == {}  # no scorer result
    alone.write_text('{"events_per_s": 8000.0}', encoding="utf-8")
    now = alone.stat().st_mtime + 60
    assert e2e.versus_scorer_alone(6_000.0, now) == {
        "scorer_alone_events_per_s": 8000.0,
        "scorer_alone_result_age_s": 60,
        "vs_scorer_alone": 0.75,
    }
    # an older result is another run's; a failed e2e has no rate
    assert e2e.versus_scorer_alone(6_000.0, now + e2e.SAME_RUN_S) == {}
    assert e2e.versus_scorer_alone(None, now) == {}
    alone.write_text("not json", encoding="utf-8")
    assert e2e.versus_scorer_alone(6_000.0, now) == {}


def test_the_scaled_latency_rate_follows_the_same_runs_ladder(
    e2e: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ladder = tmp_path / "ladder.json"
    monkeypatch.setattr(e2e, "LADDER", ladder)
    assert "no ladder result" in e2e.scaled_rate(5_000, time.time())["skipped"]
    ladder.write_text(
        '{"date": "d", "scorer": {"rungs": {"L1": {"job_cpu_us_per_event": 41.0}}}}',
        encoding="utf-8",
    )
    now = ladder.stat().st_mtime + 60
    # 5,000 x 16.4 / 41.0 = 2,000 events/s: a machine 2.5x slower than the issue's
    assert e2e.scaled_rate(5_000, now) == {
        "rate": 2_000,
        "ladder_l1_us": 41.0,
        "ladder_l1_loaded": False,
        "ladder_date": "d",
        "issue_l1_us": 16.4,
    }
    assert "old" in e2e.scaled_rate(5_000, now + e2e.SAME_RUN_S)["skipped"]
    ladder.write_text('{"scorer": {"rungs": {"L1": {"job_cpu_us_per_event": 12.0}}}}')
    assert "not slower" in e2e.scaled_rate(5_000, ladder.stat().st_mtime)["skipped"]


def test_the_backlog_is_sampled_finely_over_the_last_two_checkpoint_intervals(
    e2e: ModuleType,
) -> None:
    # 5,000/s for 60 s: the last 4 s are the last 20,000 transactions
    assert e2e.sample_period(0, 300_000, 5_000) == e2e.SAMPLE_EVERY_S
    assert e2e.sample_period(279_999, 300_000, 5_000) == e2e.SAMPLE_EVERY_S
    assert e2e.sample_period(280_000, 300_000, 5_000) == e2e.FINAL_SAMPLE_EVERY_S
    assert e2e.sample_period(299_999, 300_000, 5_000) == e2e.FINAL_SAMPLE_EVERY_S
