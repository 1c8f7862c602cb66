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
