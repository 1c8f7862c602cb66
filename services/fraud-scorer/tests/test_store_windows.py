"""The store windows in a MiniCluster: every transaction counted once in each window it falls in.

The feed rows go through the job's own ``store_windows`` (the Flink SQL view's event time and
watermark, its tumbling windows, the metrics JSON written in Java); a bounded input ends with the
final watermark, so every window closes and the result is exact, byte for byte the JSON the
Python contract encodes.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from pyflink.common import Row

from streamflow.events import WindowMetrics, decode, encode
from streamflow.fraud_scorer import functions as fn
from streamflow.fraud_scorer.environment import build_environment
from streamflow.fraud_scorer.store_windows import store_windows

from .conftest import local_flink

pytestmark = [pytest.mark.integration, pytest.mark.flink]

SIZES = (60, 300, 3600)
BASE_MS = 1_796_000_400_000  # a whole hour (UTC)


def feed_rows(count: int, seed: int = 3) -> list[Row]:
    """Scored rows of three stores over ~2 hours, slightly out of order, on window edges too."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        # 7 s apart, up to 2 s out of order (within the 5 s lag: nothing is late); every 60th
        # exactly on a minute's first millisecond (7 s x 60 is 7 whole minutes)
        jitter = 0 if i % 60 == 0 else rng.randint(-2_000, 2_000)
        event_ms = BASE_MS + i * 7_000 + jitter
        rows.append(
            Row(
                f"C{i % 11}",
                json.dumps({"n": i}),  # the scored JSON: never read by the windows
                f"S{i % 3:04d}-01",
                event_ms,
                rng.randint(1, 50_000),
                int(i % 13 == 0),
            )
        )
    return rows


def contract_json(
    store: str, start_ms: int, end_ms: int, count: int, cents: int, frauds: int
) -> str:
    """The reference: the window as the Python contract encodes it."""
    total = Decimal(cents) / 100
    cent = Decimal("0.01")
    avg = (total / count).quantize(cent, ROUND_HALF_EVEN) if count else Decimal("0.00")
    metrics = WindowMetrics(
        window_start=datetime.fromtimestamp(start_ms / 1000, UTC),
        window_end=datetime.fromtimestamp(end_ms / 1000, UTC),
        window_seconds=(end_ms - start_ms) // 1000,
        store_id=store,
        count=count,
        amount_sum=total.quantize(cent),
        amount_avg=avg,
        fraud_count=frauds,
    )
    return encode(metrics).decode("utf-8")


def expected_windows(rows: list[Row]) -> list[str]:
    sums: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for _, _, store, event_ms, cents, fraud in rows:
        for size in SIZES:
            start = event_ms - event_ms % (size * 1000)
            total = sums[(store, start, size)]
            total[0] += 1
            total[1] += cents
            total[2] += fraud
    return sorted(
        contract_json(store, start, start + size * 1000, *total)
        for (store, start, size), total in sums.items()
    )


def test_every_transaction_is_counted_once_per_window(tmp_path: Path) -> None:
    env = build_environment(local_flink(tmp_path))
    env.set_parallelism(1)
    rows = feed_rows(1_200)
    feed = env.from_collection(rows, type_info=fn.SCORED_FEED_TYPE)
    closed = store_windows(env, feed, SIZES, 5_000, fn.METRICS_TYPE)
    with closed.execute_and_collect() as results:
        got = [(row[0], row[1]) for row in results]
    assert all(key == json.loads(value)["store_id"] for key, value in got)
    assert sorted(value for _, value in got) == expected_windows(rows)


def test_java_window_json_is_the_contracts_encoding(flink_classes: Any) -> None:
    """``WindowMetricsJson`` against the Python contract over 1,000 generated windows: means
    exactly half a cent off (rounded to even), empty windows, large sums, whole and part seconds."""
    rng = random.Random(11)
    cases = [
        ("S0001-01", 0, 60_000, 0, 0, 0),
        ("S1", 120_000, 180_000, 4, 10, 0),  # 0.025 -> 0.02
        ("S1", 120_000, 180_000, 4, 14, 0),  # 0.035 -> 0.04
        ("a.b:c_d-9", BASE_MS, BASE_MS + 3_600_000, 3, 9_999_999_999_999, 2),
        ("S2", BASE_MS + 1, BASE_MS + 300_001, 1, 1, 1),
    ]
    for _ in range(1_000):
        count = rng.choice((0, 1, 2, 3, 4, 7, 8, 64, rng.randint(1, 100_000)))
        cents = rng.randint(0, 10**12) if count else 0
        start = BASE_MS + rng.randint(-(10**6), 10**6) * 60_000
        size = rng.choice(SIZES) * 1000
        cases.append((f"S{rng.randint(0, 9999):04d}-01", start, start + size, count, cents, 1))
    writer = flink_classes.WindowMetricsJson
    for case in cases:
        text = writer.json(*case)
        assert text == contract_json(*case), case
        assert decode(WindowMetrics, text).count == case[3]
