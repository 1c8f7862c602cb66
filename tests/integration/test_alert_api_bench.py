"""The pure helpers of bench/alert_api.py: the concurrency sweep's levels and which level is
published, wrk's output parsing, and the request shapes (their paths, the wrk script rotating
over them, which of them meet the p99 target).

The benchmark itself runs in ``make bench`` (no timing assertions here); these tests pin down the
choice of the reported figure, which a mistake would silently bias.
"""

from __future__ import annotations

import argparse
import random
import re
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from streamflow.alert_api.models import TIMELINE_CURSOR_PATTERN
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


# --- the request shapes (issue #21: the workbench's requests at 1M alerts) ---------------------

END = datetime(2026, 12, 5, tzinfo=UTC)


def test_shapes_every_issue6_and_workbench_page_is_in_the_sweep(bench: ModuleType) -> None:
    names = {s.name for s in bench.SHAPES}
    assert len(names) == len(bench.SHAPES)
    rotation = {s.name for s in bench.SHAPES if s.in_sweep}
    # Issue #6's five list shapes stay in the rotation, and the workbench's pages join them.
    assert {"customer", "merchant_since", "min_score_status", "rule_severity", "score_sort"} <= (
        rotation
    )
    assert {"timeline", "timeline_older", "search_transaction", "queue_day_oldest_first"} <= (
        rotation
    )
    # Aggregates are measured one shape at a time only.
    assert {s.name for s in bench.SHAPES if s.kind in {"count", "verdict_time"}} == (
        names - rotation
    )


def test_fixed_values_lie_in_the_seeded_period(bench: ModuleType) -> None:
    fixed = bench.fixed_values(END, date(2026, 12, 4))
    assert fixed["since_17d"] == "2026-11-18T00:00:00Z"
    assert (fixed["day_start"], fixed["day_end"]) == (
        "2026-11-25T00:00:00Z",
        "2026-11-26T00:00:00Z",
    )
    micros = fixed["timeline_cursor"].split("_", 1)[0]
    middle = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
    assert END - timedelta(seconds=bench.SPAN_S) < middle < END
    assert re.fullmatch(TIMELINE_CURSOR_PATTERN, fixed["timeline_cursor"])
    # The seeded period started 30 days before END: 30 days back from 2026-12-04 reach it.
    assert fixed["verdict_days"] == "30"
    assert bench.fixed_values(END, date(2027, 6, 1))["verdict_days"] == "90"  # the API's bound


def test_bench_end_is_the_midnight_starting_the_seed_day(bench: ModuleType) -> None:
    assert bench.bench_end(date(2026, 12, 5)) == END


def test_paths_keep_random_parts_and_fill_fixed_ones(bench: ModuleType) -> None:
    fixed = bench.fixed_values(END, date(2026, 12, 4))
    shapes = {s.name: s for s in bench.SHAPES}
    path = bench.path_of(shapes["timeline_older"], fixed)
    assert path == (
        f"/v1/customers/{{customer}}/timeline?limit=25&cursor={fixed['timeline_cursor']}"
    )
    drawn = bench.draw(path, random.Random(1), 1000)
    assert re.fullmatch(r"/v1/customers/C\d+/timeline\?limit=25&cursor=\d+_tx-999999999", drawn)
    tx = bench.draw(bench.path_of(shapes["search_transaction"], fixed), random.Random(1), 1000)
    assert re.fullmatch(r"/v1/search\?q=tx-000000\d{3}&limit=20", tx)


def test_every_path_is_a_request_the_api_validates(bench: ModuleType) -> None:
    # The list and count shapes through the API's own query models (what _explain builds from).
    fixed = bench.fixed_values(END, date(2026, 12, 4))
    for shape in bench.SHAPES:
        path = bench.draw(bench.path_of(shape, fixed), random.Random(3), 1000)
        assert "{" not in path, path
        query = bench._query(path)
        if shape.kind == "list":
            bench.AlertListParams.model_validate(query).filters()
        elif shape.kind == "count":
            bench.FilterParams.model_validate(query).filters()


def test_lua_script_rotates_over_the_paths(bench: ModuleType) -> None:
    script = bench.lua_script(["/v1/search?q={tx}&limit=20", "/v1/queues"], 5000)
    assert (
        'function() return "/v1/search?q=" .. string.format("tx-%09d", math.random(0, 4999))'
        in (script)
    )
    assert 'function() return "/v1/queues" end,' in script
    assert "paths[(n % #paths) + 1]" in script
    customer = bench.lua_script(["/v1/customers/{customer}/timeline?limit=25"], 10)
    assert '"/v1/customers/" .. "C" .. math.random(0, 49999) .. "/timeline?limit=25"' in customer


def test_shape_names_parse(bench: ModuleType) -> None:
    assert bench._names("timeline,counts_all") == ("timeline", "counts_all")
    assert bench._names("all") == bench.SHAPE_NAMES
    assert bench._names("") == ()
    with pytest.raises(argparse.ArgumentTypeError):
        bench._names("timeline,nope")


def test_shape_summary_flags_any_level_over_the_target_or_with_errors(bench: ModuleType) -> None:
    shapes = {
        "fast": {"wrk": [level(1, 900, 4.0), level(8, 1500, 20.0)]},
        "queued": {"wrk": [level(1, 900, 4.0), level(8, 1500, 60.0)]},
        "errors": {"wrk": [level(1, 900, 4.0, non_2xx=2.0)]},
        "no_p99": {"wrk": [level(1, 0, None)]},
    }
    assert bench.shape_summary(shapes) == {
        "within_p99_target": ["fast"],
        "over_p99_target": ["errors", "no_p99", "queued"],
    }
