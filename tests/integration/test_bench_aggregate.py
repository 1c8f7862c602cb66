"""bench/aggregate.py rewrites docs/benchmarks.md's generated part and keeps its dated write-ups."""

from __future__ import annotations

from tests.integration.bench_modules import ROOT, bench_module


def test_the_dated_sections_survive_a_rewrite() -> None:
    aggregate = bench_module("aggregate")
    history = "## 2026-12-05: a measured change\n\n| a | b |\n\n## 2026-11-30 (night): older\n\nx\n"
    previous = "# Benchmarks\n\nold table\n\n## Reference ladder\n\nold ladder\n\n" + history
    page = aggregate.with_dated_sections(
        "# Benchmarks\n\nnew table\n\n## Reference ladder\n\n", previous
    )
    assert page.startswith("# Benchmarks\n\nnew table")
    assert "old table" not in page
    assert "old ladder" not in page
    assert page.endswith(history)
    # nothing dated yet (a fresh page): the generated part alone
    assert aggregate.with_dated_sections("generated\n", "# Benchmarks\n") == "generated\n"


def test_the_real_page_keeps_its_history() -> None:
    aggregate = bench_module("aggregate")
    current = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    dated = aggregate.DATED_SECTION.findall(current)
    assert dated, "docs/benchmarks.md has dated sections"
    page = aggregate.with_dated_sections("# Benchmarks\n", current)
    assert len(aggregate.DATED_SECTION.findall(page)) == len(dated)


def test_the_scaled_latency_phase_is_written_or_why_not() -> None:
    aggregate = bench_module("aggregate")
    assert aggregate._scaled_latency_lines({}) == []  # an e2e result from before the phase
    skipped = {"latency_scaled": {"skipped": "no ladder result"}}
    assert aggregate._scaled_latency_lines(skipped) == [
        "The latency phase scaled to this machine did not run: no ladder result.",
        "",
    ]
    scaled = {
        "rate": 2_000,
        "ladder_l1_us": 41.0,
        "issue_l1_us": 16.4,
        "latency_rate_target": 2_000,
        "latency_rate_achieved": 1_998.7,
        "latency_ms": {"p50": 120.0, "p95": 300.0, "p99": 450.5},
        "latency_scored_backlog_at_end": 3_000,
        "latency_scored_backlog_at_end_s": 1.5,
        "latency_scored_backlog_last_4s_s": {"min": 0.42, "max": 2.51, "samples": 15},
    }
    text = aggregate._scaled_latency_lines({"latency_scaled": scaled})[0]
    assert "L1 41.0 µs against issue #20's 16.4 µs" in text
    assert "2,000 events/s (achieved 1,999/s)" in text
    assert "p99 450.5 ms" in text
    assert "1.5 s of the offered input (does NOT meet" in text
    assert "went from 0.42 s (just after a commit) to 2.51 s (just before one)" in text
    assert "with commits every 2 s" in text  # a result from before the interval was recorded
    faster = {"latency_scaled": scaled, "scorer": {"checkpoint_interval_ms": 500}}
    assert "with commits every 0.5 s" in aggregate._scaled_latency_lines(faster)[0]


def test_the_scorer_ratio_is_the_median_of_its_pairs_and_says_so() -> None:
    aggregate = bench_module("aggregate")
    ladder = {
        "scorer": {
            "rungs": {"L5": {"cpu_per_event_vs_L1": 5.3}},
            "pairs": [
                {"L1_us": 31.0, "L5_us": 164.8, "ratio": 5.32},
                {"L1_us": 30.2, "L5_us": 141.7, "ratio": 4.69},
                {"L1_us": 30.9, "L5_us": 150.1, "ratio": 4.86},
            ],
            "L5_vs_L1": 4.86,
        }
    }
    path = aggregate.FIGURES["scorer_cpu_vs_ladder_L1"][1]
    assert aggregate._dig(ladder, path) == 4.86
    old = {"scorer": {"rungs": {"L5": {"cpu_per_event_vs_L1": 5.79}}}}  # before the pairs
    assert aggregate._dig(old, path) == 5.79
    text = "\n".join(aggregate._scorer_ladder(ladder["scorer"]))
    assert "costs 4.86x L1's CPU per event (the median of 3 pairs" in text
    assert "164.8 / 31.0 = 5.32x" in text
    assert "it meets issue #20's bar" in text
