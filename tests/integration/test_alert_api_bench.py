"""The pure helpers of bench/alert_api.py: the concurrency sweep's levels and which level is
published, and wrk's output parsing.

The benchmark itself runs in ``make bench`` (no timing assertions here); these tests pin down the
choice of the reported figure, which a mistake would silently bias.
"""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import Any

import pytest

from tests.integration.bench_modules import bench_module

WRK_OUTPUT = """Running 20s test @ http://127.0.0.1:41234
  2 threads and 16 connections
  Latency Distribution
     50%   10.06ms
     75%   12.31ms
     90%   14.72ms
     99%   22.23ms
  30645 requests in 20.04s, 377.06MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1528.88
"""


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/alert_api.py imported as a module (bench/ is scripts, not a package)."""
    return bench_module("alert_api")


def level(connections: int, rps: float, p99: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "connections": connections,
        "rps": rps,
        "p99_ms": p99,
        "non_2xx": 0.0,
        "socket_errors": 0.0,
        **extra,
    }


def test_levels_parse_sorted_unique_positive(bench: ModuleType) -> None:
    assert bench._levels("32,8,16,8") == [8, 16, 32]
    for bad in ("", "0,8", "8,x"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench._levels(bad)


def test_headline_is_the_busiest_level_within_the_p99_target(bench: ModuleType) -> None:
    sweep = [level(8, 1600, 12.0), level(16, 1700, 22.0), level(32, 1900, 80.0)]
    assert bench.headline(sweep)["connections"] == 16


def test_headline_skips_levels_with_errors(bench: ModuleType) -> None:
    sweep = [level(8, 1600, 12.0), level(16, 1700, 22.0, non_2xx=5.0)]
    assert bench.headline(sweep)["connections"] == 8
    sweep = [level(8, 1600, 12.0), level(16, 1700, 22.0, socket_errors=1.0)]
    assert bench.headline(sweep)["connections"] == 8


def test_headline_without_a_level_in_target_is_the_busiest(bench: ModuleType) -> None:
    sweep = [level(8, 900, 60.0), level(16, 1100, None), level(32, 1000, 120.0)]
    assert bench.headline(sweep)["connections"] == 16


def test_level_figures_come_from_wrk_output(bench: ModuleType) -> None:
    figures = bench._level(16, WRK_OUTPUT, [9, 7], 25.0, 10.0)
    assert figures["rps"] == pytest.approx(1528.88)
    assert (figures["p50_ms"], figures["p99_ms"]) == (10.06, 22.23)
    assert figures["non_2xx"] == 3.0
    assert figures["connections_per_worker"] == [9, 7]
    assert figures["api_cpu_ms_per_request"] == pytest.approx(0.816, abs=1e-3)
    assert figures["pg_cpu_ms_per_request"] == pytest.approx(0.326, abs=1e-3)
