"""The store windows in a MiniCluster: every transaction counted once in each window it falls in.

The feed rows go through the job's own ``store_windows`` (the Flink SQL view's event time and
watermark, its tumbling windows, the metrics JSON); a bounded input ends with the final
watermark, so every window closes and the result is exact.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pyflink.common import Row

from streamflow.events import encode
from streamflow.fraud_scorer import functions as fn
from streamflow.fraud_scorer.environment import build_environment
from streamflow.fraud_scorer.records import WindowAggregate, window_metrics
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


def expected_windows(rows: list[Row]) -> list[dict[str, Any]]:
    sums: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for _, _, store, event_ms, cents, fraud in rows:
        for size in SIZES:
            start = event_ms - event_ms % (size * 1000)
            total = sums[(store, start, size)]
            total[0] += 1
            total[1] += cents
            total[2] += fraud
    return sorted(
        (
            json.loads(
                encode(window_metrics(WindowAggregate(store, *total), start, start + size * 1000))
            )
            for (store, start, size), total in sums.items()
        ),
        key=_order,
    )


def _order(metrics: dict[str, Any]) -> tuple[str, str, int]:
    return metrics["store_id"], metrics["window_start"], metrics["window_seconds"]


def test_every_transaction_is_counted_once_per_window(tmp_path: Path) -> None:
    env = build_environment(local_flink(tmp_path))
    env.set_parallelism(1)
    rows = feed_rows(1_200)
    feed = env.from_collection(rows, type_info=fn.SCORED_FEED_TYPE)
    closed = store_windows(env, feed, SIZES, 5_000, fn.METRICS_TYPE)
    with closed.execute_and_collect() as results:
        got = [(row[0], json.loads(row[1])) for row in results]
    assert all(key == metrics["store_id"] for key, metrics in got)
    assert sorted((metrics for _, metrics in got), key=_order) == expected_windows(rows)
