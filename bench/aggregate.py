"""Merge the component benchmark results into ``bench/results/latest.json`` and docs/benchmarks.md.

Each ``bench/<component>.py`` writes ``bench/results/<component>.json`` with its figures and the
exact command that produced them. This script maps them onto the published keys, adds the machine,
date and commit, and rewrites the table in ``docs/benchmarks.md``. A figure that was not measured is
reported as null, never invented.

A result that ``make bench`` ran on a busy machine (its ``load_gate``, or the ladder's own rungs,
say ``loaded``: the load stayed above 1.0 through a 5-minute wait) does not replace the headline:
the table keeps the last unloaded figure (``last_unloaded`` in latest.json, carried from run to
run) and says so below it. The reference ladder (``bench/ladder.py``) is printed in full, every
figure with its ratio to L1 (scorer) or to the raw COPY (ingestor) and the load before each rung.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

# published key -> (component file, key inside it, target, "higher" or "lower" is better)
FIGURES: dict[str, tuple[str, str, float | None, str]] = {
    "generator_events_per_s": ("generator", "events_per_s", 50_000, "higher"),
    "scorer_events_per_s": ("scorer_flink", "events_per_s", 10_000, "higher"),
    "scorer_core_events_per_cpu_s": (
        "scorer_core",
        "backtest_core.events_per_cpu_s",
        None,
        "higher",
    ),
    "supervised_model_us_per_event": (
        "scorer_core",
        "supervised_model_only.us_per_event_cpu",
        20,
        "lower",
    ),
    "iforest_model_us_per_event": (
        "scorer_core",
        "iforest_model_only.us_per_event_cpu",
        None,
        "lower",
    ),
    "ingest_rows_per_s": ("ingestor", "backlog_rows_per_s", 50_000, "higher"),
    "api_rps": ("alert_api", "rps", 1_500, "higher"),
    "api_p99_ms": ("alert_api", "p99_ms", 50, "lower"),
    "dbt_incremental_1m_s": ("dbt_incremental", "incremental_1m_s", 60, "lower"),
    "e2e_max_events_per_s": ("e2e", "max_events_per_s", 10_000, "higher"),
    # The full pipeline's max rate over the scorer alone's of the same run (issue #20: >= 0.6).
    "e2e_vs_scorer_alone": ("e2e", "vs_scorer_alone", 0.6, "higher"),
    # The real job's CPU per event over the ladder's L1 of the same run (issue #20: <= 5x): the
    # median of the L1 + L5 pairs (ladders before 2026-12-07 04:00 had one pair, the rungs').
    "scorer_cpu_vs_ladder_L1": (
        "ladder",
        "scorer.L5_vs_L1|scorer.rungs.L5.cpu_per_event_vs_L1",
        5,
        "lower",
    ),
    # The ingestor's real path + its PostgreSQL backend per row over raw COPY (issue #20: <= 4x).
    "ingestor_vs_raw_copy": ("ladder", "ingestor.ingestor_vs_raw_copy", 4, "lower"),
    # p99 of the latency phase run at 5,000 x 16.4 / L1 events/s (this machine's share of the
    # issue's 5,000/s; run only on a machine whose L1 is above the 16.4 µs).
    "e2e_scaled_latency_ms.p99": ("e2e", "latency_scaled.latency_ms.p99", 500, "lower"),
}


E2E_P99_TARGET_MS = 500
"""Issue #20: p99 transaction -> alert at 5,000 events/s offered."""
P99_KEY = "e2e_latency_ms.p99"


def _load(component: str) -> dict[str, Any]:
    path = RESULTS / f"{component}.json"
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _dig(data: dict[str, Any], dotted: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; None where a step is missing. ``"a.b|c"``: the first
    of the paths that holds a value (a result written before a figure moved)."""
    if "|" in dotted:
        found = (_dig(data, path) for path in dotted.split("|"))
        return next((value for value in found if value is not None), None)
    value: Any = data
    for step in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _load_average(data: dict[str, Any]) -> str:
    """The 1-minute load average recorded with a result, if any (before it, when gated)."""
    gate = data.get("load_gate")
    if isinstance(gate, dict) and isinstance(gate.get("load_before"), int | float):
        return f"{gate['load_before']:.1f}"
    for key in (
        "load_average_before",
        "load_avg_1m_before",
        "load_average_at_throughput_end",
        "load_average_at_end",
    ):
        value = data.get(key)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, int | float):
            return f"{value:.1f}"
    found = re.search(r"load average ([0-9.]+)", str(data.get("machine", "")))
    return f"{float(found.group(1)):.1f}" if found else "?"


def _loaded(data: dict[str, Any]) -> bool | None:
    """Whether a result was measured loaded; None when nothing says (not run by ``make bench``)."""
    if isinstance(data.get("loaded"), bool):
        return bool(data["loaded"])
    gate = data.get("load_gate")
    if isinstance(gate, dict) and isinstance(gate.get("loaded"), bool):
        return bool(gate["loaded"])
    return None


DEFAULT_COMMANDS = {
    "ingestor": "scripts/uv.sh run python bench/ingestor.py",
    "dbt_incremental": "scripts/uv.sh run python bench/dbt_incremental.py",
    "ladder": "scripts/uv.sh run python bench/ladder.py",
}
"""Commands of the benches whose results do not record one."""


def _caveat(loads: list[float], loaded_shown: bool = False) -> list[str]:
    """What the load column says about the figures (``loaded_shown``: a loaded one is shown)."""
    if loads and max(loads) < 3.0 and not loaded_shown:
        return [
            "Every figure below was measured on an otherwise idle machine, by `make bench` or by",
            "re-running one component's command alone after a change to it (the load column is the",
            "1-minute load average recorded with each result; the bench's own processes account",
            "for it).",
        ]
    return [
        "Caveat: some figures below were measured while other work shared the two cores (the",
        "load column is the 1-minute load average recorded with each result; an idle 2-core",
        "machine is at ~0-2). They understate what an idle machine does, and are published as",
        "measured, not corrected. Re-run `make bench` on an idle machine.",
    ]


def machine() -> str:
    """A one-line description of the machine the numbers come from."""
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.platform()}"


def commit() -> str:
    """The current git commit, or 'unknown'."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def aggregate() -> dict[str, Any]:
    """The published benchmark document."""
    latest: dict[str, Any] = {}
    date = datetime.now(UTC).isoformat(timespec="seconds")
    here = commit()
    last_unloaded: dict[str, Any] = dict(_load("latest").get("last_unloaded") or {})
    loaded_now: dict[str, Any] = {}
    for key, (component, inner, _target, _better) in FIGURES.items():
        data = _load(component)
        value = _dig(data, inner)
        latest[key] = value
        loaded = _loaded(data) if value is not None else None
        record = {"value": value, "load": _load_average(data), "date": date, "commit": here}
        if loaded is False:
            last_unloaded[key] = record
        elif loaded:
            kept = last_unloaded.get(key)
            loaded_now[key] = {**record, "kept": kept}
            if kept is not None:
                latest[key] = kept["value"]  # the headline keeps the last unloaded figure
    e2e = _load("e2e")
    p99 = (e2e.get("latency_ms") or {}).get("p99")
    if p99 is not None and _loaded(e2e) is not None:
        record = {
            "value": p99,
            "censored": bool(e2e.get("latency_censored")),
            "load": _load_average(e2e),
            "date": date,
            "commit": here,
        }
        if _loaded(e2e) is False:
            last_unloaded[P99_KEY] = record
        else:
            loaded_now[P99_KEY] = {**record, "kept": last_unloaded.get(P99_KEY)}
    latest["e2e_latency_ms"] = e2e.get("latency_ms", {"p50": None, "p95": None, "p99": None})
    latest["cpu_by_stage"] = e2e.get("cpu_by_stage", {})
    latest["machine"] = machine()
    latest["date"] = date
    latest["commit"] = here
    latest["last_unloaded"] = last_unloaded
    latest["loaded_this_run"] = loaded_now
    latest["components"] = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(RESULTS.glob("*.json"))
        if path.stem != "latest"
    }
    return latest


def markdown(latest: dict[str, Any]) -> str:
    """The docs/benchmarks.md page for a result document."""
    rows = []
    loads = []
    loaded_now = latest.get("loaded_this_run") or {}
    for key, (component, _inner, target, better) in FIGURES.items():
        value = latest.get(key)
        data = latest["components"].get(component, {})
        verdict = "not measured"
        if value is not None and target is not None:
            ok = value >= target if better == "higher" else value <= target
            verdict = "meets target" if ok else "BELOW TARGET"
        elif value is not None:
            verdict = "measured"
        target_text = "" if target is None else f"{'≥' if better == 'higher' else '≤'} {target:,}"
        shown = "—" if value is None else f"{value:,.{2 if abs(value) < 10 else 1}f}"
        command = (data.get("command") or DEFAULT_COMMANDS.get(component, "")).strip()
        load = _load_average(data) if data else ""
        loaded = loaded_now.get(key)
        kept = loaded.get("kept") if loaded is not None else None
        if kept:
            load = str(kept.get("load", "?"))  # the load of the figure shown, not this run's
        if load not in {"", "?"}:
            loads.append(float(load))
        if loaded is not None:
            shown += " ‡" if kept else " †"
            load += "" if kept else " (loaded)"
        rows.append(f"| `{key}` | {shown} | {target_text} | {verdict} | {load} | `{command}` |")
    rows.append(_latency_row(latest))
    lat = latest.get("e2e_latency_ms") or {}
    e2e = latest["components"].get("e2e", {})
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/aggregate.py) from the component results in",
        "`bench/results/`. Figures that were not measured are shown as —, never estimated.",
        "",
        f"- machine: {latest['machine']}",
        f"- date: {latest['date']}",
        f"- commit: {latest['commit']}",
        "",
        *_caveat(loads, any(not item.get("kept") for item in loaded_now.values())),
        "",
        "| figure | value | target | verdict | load | command |",
        "|---|---|---|---|---|---|",
        *rows,
        *_loaded_notes(loaded_now),
        "",
        f"{'In this (loaded) run, e' if P99_KEY in loaded_now else 'E'}nd-to-end latency at "
        f"{_rate_text(e2e.get('latency_rate_target'), e2e.get('latency_rate_achieved'))} "
        "(Kafka timestamp of the transaction to the alert readable by a read_committed "
        f"consumer): p50 {_ms(lat.get('p50'))}, p95 {_ms(lat.get('p95'))}, "
        f"p99 {_ms(lat.get('p99'))}.{_censored_text(e2e)}{_backlog_text(e2e, _interval_s(e2e))}",
        "",
        *_scaled_latency_lines(e2e),
        "CPU seconds per stage during the end-to-end throughput run: "
        + _cpu_text(latest.get("cpu_by_stage") or {}, e2e.get("events"))
        + (
            f". Bottleneck: {e2e['bottleneck_stage']} (the Kafka and PostgreSQL totals include "
            "whatever else the machine ran meanwhile)."
            if e2e.get("bottleneck_stage")
            else ""
        ),
        *_api_note(latest["components"].get("alert_api", {})),
        "",
        "Notes per component (settings, modes, bottlenecks) are in each result's `notes` field",
        "in `bench/results/latest.json`.",
        "",
        *_ladder_lines(latest["components"].get("ladder", {})),
    ]
    return "\n".join(lines)


def _loaded_notes(loaded_now: dict[str, Any]) -> list[str]:
    """What the table shows for the figures this run measured on a loaded machine."""
    lines: list[str] = []
    for key, item in loaded_now.items():
        kept = item.get("kept")
        this_run = f"this run measured {_num(item.get('value'))} at load {item.get('load')}"
        if kept:
            lines += [
                "",
                f"‡ `{key}`: {this_run} (loaded: still above 1.0 after the load gate's wait); the "
                f"table keeps the last unloaded figure, from {kept.get('date')} (commit "
                f"{kept.get('commit')}, load {kept.get('load')}).",
            ]
        else:
            lines += [
                "",
                f"† `{key}`: {this_run} (loaded: still above 1.0 after the load gate's "
                "wait) and no unloaded figure is on record, so the table shows the loaded one.",
            ]
    return lines


def _api_note(api: dict[str, Any]) -> list[str]:
    """The alert API run's note and its concurrency sweep (req/s and p99 per wrk level)."""
    note = api.get("notes")
    lines = ["", f"Alert API: {note}"] if isinstance(note, str) and note else []
    sweep = api.get("sweep")
    if isinstance(sweep, list) and sweep:
        lines += [
            "",
            "| wrk connections | req/s | p50 ms | p99 ms | split between workers |",
            "|---|---|---|---|---|",
        ]
        for level in sweep:
            split = "/".join(str(n) for n in level.get("connections_per_worker", []))
            lines.append(
                f"| {level.get('connections')} | {level.get('rps', 0):,.0f} "
                f"| {_num(level.get('p50_ms'))} | {_num(level.get('p99_ms'))} | {split} |"
            )
    return lines


COARSE_COMMITS = 3
"""A scorer rung timed over fewer checkpoint commits than this is marked coarse."""
SCORER_CPU_BAR = 5
"""Issue #20: the real job's CPU per event at most this many times the ladder's L1."""
INGEST_CPU_BAR = 4
"""Issue #20: the ingestor's and PostgreSQL's CPU per row at most this many times raw COPY."""


def _ratio(value: Any) -> str:
    return "—" if value is None else f"{value:,.2f}x"


def _rung_load(rung: dict[str, Any]) -> str:
    load = rung.get("load_before")
    text = "?" if load is None else f"{load:.2f}"
    return f"{text} **loaded**" if rung.get("loaded") else text


def _ladder_lines(ladder: dict[str, Any]) -> list[str]:
    """The reference ladder (bench/ladder.py): both tables with ratios and loads."""
    lines = [
        "## Reference ladder",
        "",
        "What each layer of work costs, measured in one run of `bench/ladder.py`",
        "(docs/adr/0081-reference-ladder.md): every figure absolute and as a ratio to the scorer's",
        "L1 or to the ingestor's raw COPY of the same run, which is what compares across machines.",
        "The load is the 1-minute load average just before each rung; above 1.0 the rung waited up",
        "to 5 minutes and then ran anyway, marked **loaded** (its ratios still hold; its absolute",
        "figures are not the machine's).",
        "",
    ]
    if not ladder:
        return [*lines, "Not measured yet: `make bench` runs it and writes it here.", ""]
    lines += [
        f"- command: `{ladder.get('command', '')}`; date: {ladder.get('date', '?')}",
    ]
    lines += [*_scorer_ladder(ladder.get("scorer")), *_ingestor_ladder(ladder.get("ingestor"))]
    for part, error in (ladder.get("errors") or {}).items():
        lines += [f"The {part} ladder FAILED in this run: `{error}`.", ""]
    return lines


def _scorer_ladder(scorer: dict[str, Any] | None) -> list[str]:
    if not scorer:
        return ["", "Scorer ladder: not measured in this run.", ""]
    lines = [
        "",
        "Scorer: one job process per rung, timing "
        + ", ".join(f"{r} {n:,}" for r, n in (scorer.get("events_timed") or {}).items())
        + f" records from the {scorer.get('mark_share', 0.1):.0%} "
        "mark (start-up and warm-up excluded) as a read_committed consumer sees them, i.e. at "
        "checkpoint commits (a window of fewer than 3 is marked coarse); job CPU = the job's "
        "process tree, from /proc. "
        f"{scorer.get('execution_mode')} mode, {scorer.get('state_backend')}, checkpoints every "
        f"{scorer.get('checkpoint_interval_ms')} ms, anomaly model "
        f"{'loaded' if scorer.get('model_loaded') else 'absent'}, supervised model "
        f"{_supervised_text(scorer)}, scoring core "
        f"{_compiled_text(scorer.get('scoring_compiled'))}.",
        "",
        "| rung | adds | job CPU µs/event | x L1 | events/s | x L1 | window s (commits) | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rungs = scorer.get("rungs") or {}
    for name, rung in rungs.items():
        commits = rung.get("commits_in_window")
        window = f"{_num(rung.get('window_s'))} ({commits if commits is not None else '?'})"
        if isinstance(commits, int) and commits < COARSE_COMMITS:
            window += " coarse"
        if rung.get("input_exhausted"):
            window += ", idle tail"
        lines.append(
            f"| {name} | {rung.get('what', '')} | {_num(rung.get('job_cpu_us_per_event'))} "
            f"| {_ratio(rung.get('cpu_per_event_vs_L1'))} | {_num(rung.get('events_per_s'))} "
            f"| {_ratio(rung.get('events_per_s_vs_L1'))} | {window} | {_rung_load(rung)} |"
        )
    real = _dig({"scorer": scorer}, FIGURES["scorer_cpu_vs_ladder_L1"][1])
    if real is not None:
        verdict = "meets" if real <= SCORER_CPU_BAR else "does NOT meet"
        pairs = scorer.get("pairs") or []
        how = (
            f" (the median of {len(pairs)} pairs of the two rungs: the table's own, then "
            f"{len(pairs) - 1} measured back to back; "
            + ", ".join(
                f"{_num(p.get('L5_us'))} / {_num(p.get('L1_us'))} = {_ratio(p.get('ratio'))}"
                for p in pairs
            )
            + ")"
            if len(pairs) > 1
            else ""
        )
        lines += [
            "",
            f"The real job (L5) costs {_ratio(real)} L1's CPU per event{how}: it {verdict} "
            f"issue #20's bar of ≤ {SCORER_CPU_BAR}x.",
        ]
    return [*lines, ""]


def _supervised_text(scorer: dict[str, Any]) -> str:
    """Which supervised model L3-L5 scored with (none in ladders before 2026-12-05 13:00)."""
    path = scorer.get("supervised_model")
    return f"`{Path(path).name}` current" if path else "absent (ladders before 2026-12-05 13:00)"


def _compiled_text(compiled: bool | None) -> str:
    """Whether the rungs ran the scoring core compiled (docs/adr/0123)."""
    if compiled is None:
        return "as Python (ladders before the compiled build)"
    return "compiled (mypyc)" if compiled else "as Python"


def _ingestor_ladder(ingestor: dict[str, Any] | None) -> list[str]:
    if not ingestor:
        return ["Ingestor ladder: not measured in this run.", ""]
    lines = [
        f"Ingestor: {ingestor.get('rows_per_rung', 0):,} transactions per rung in batches of "
        f"{ingestor.get('batch_rows', 0):,} (one transaction each), one connection, no Kafka; "
        "each rung on an empty table; CPU = client (this process) + server (the connection's "
        "PostgreSQL backend, from /proc).",
        "",
        "| rung | adds | client µs/row | server µs/row | total µs/row | x raw COPY | rows/s "
        "| x raw COPY | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rungs = ingestor.get("rungs") or {}
    for name, rung in rungs.items():
        lines.append(
            f"| {name} | {rung.get('what', '')} | {_num(rung.get('client_cpu_us_per_row'))} "
            f"| {_num(rung.get('server_cpu_us_per_row'))} | {_num(rung.get('cpu_us_per_row'))} "
            f"| {_ratio(rung.get('cpu_per_row_vs_raw_copy'))} | {_num(rung.get('rows_per_s'))} "
            f"| {_ratio(rung.get('rows_per_s_vs_raw_copy'))} | {_rung_load(rung)} |"
        )
    real = ingestor.get("ingestor_vs_raw_copy")
    if real is not None:
        again = "reread" if "reread" in rungs else "merge"  # `merge` before V054 (ADR 0134)
        merge = (rungs.get(again) or {}).get("cpu_per_row_vs_raw_copy")
        verdict = "meets" if real <= INGEST_CPU_BAR else "does NOT meet"
        pairs = ingestor.get("pairs") or []
        how = (
            f"the median of {len(pairs)} pairs of the two rungs: the table's own, then "
            f"{len(pairs) - 1} measured back to back "
            f"(ratios: {', '.join(_ratio(p.get('ratio')) for p in pairs)})"
            if len(pairs) > 1
            else "one pair of the two rungs"
        )
        lines += [
            "",
            f"The ingestor's cost (`ingestor`: its real first-read path, `parse_records` + "
            f"`write_batch` into bronze with every index) is {_ratio(real)} the raw COPY's CPU "
            f"per row, {how}: it {verdict} issue #20's bar of ≤ {INGEST_CPU_BAR}x (Kafka "
            f"consumption is not in this ladder). Its re-read path (`{again}`) costs "
            f"{_ratio(merge)}.",
        ]
    scored = ingestor.get("scored_ingestor_vs_raw_copy")
    if scored is not None:
        lines += [
            "",
            f"A scored record (`scored_ingestor`: `transactions.scored`, ~1.9 KB of the scoring "
            f"core's JSON, through the same path, the projection trigger into "
            f"`app.scored_transactions` included) costs {_ratio(scored)} the raw COPY of the "
            f"same payloads (`scored_raw_copy`; the scored rungs' ratios are to it). Each event "
            f"lands one raw and one scored record end to end (ADR 0122).",
        ]
    if real is None and len(names := list(rungs)) >= 2:  # a result from before `ingestor`
        top = rungs[names[-2]].get("cpu_per_row_vs_raw_copy")
        merge = rungs[names[-1]].get("cpu_per_row_vs_raw_copy")
        lines += [
            "",
            f"The ingestor's first-read path (every index, COPY straight into bronze: "
            f"`{names[-2]}`) costs {_ratio(top)} the raw COPY's CPU per row, its re-read path "
            f"(`{names[-1]}`) {_ratio(merge)}; issue #20's bar for the whole ingestor plus "
            f"PostgreSQL is ≤ {INGEST_CPU_BAR}x (its Kafka consumption is not in this ladder).",
        ]
    return [*lines, ""]


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _latency_row(latest: dict[str, Any]) -> str:
    """The table row of the end-to-end p99 (target: 500 ms at 5,000 events/s)."""
    e2e = latest["components"].get("e2e", {})
    p99 = (latest.get("e2e_latency_ms") or {}).get("p99")
    censored = e2e.get("latency_censored")
    load = _load_average(e2e) if e2e else ""
    loaded = (latest.get("loaded_this_run") or {}).get(P99_KEY)
    kept = loaded.get("kept") if loaded is not None else None
    if kept:  # this run was loaded: the last unloaded figure stays
        p99, censored, load = kept.get("value"), kept.get("censored"), str(kept.get("load"))
    verdict = "not measured"
    shown = "—"
    if isinstance(p99, int | float):
        verdict = "meets target" if p99 <= E2E_P99_TARGET_MS else "BELOW TARGET"
        shown = f"{'≥ ' if censored else ''}{p99:,.1f}"
    if loaded is not None:
        shown += " ‡" if kept else " †"
        load += "" if kept else " (loaded)"
    command = e2e.get("command", "")
    return f"| `{P99_KEY}` | {shown} | ≤ {E2E_P99_TARGET_MS:,} | {verdict} | {load} | `{command}` |"


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


def _rate_text(target: Any, achieved: Any) -> str:
    if target is None:
        return "5,000 events/s"
    text = f"{target:,} events/s"
    return f"{text} (achieved {achieved:,.0f}/s)" if isinstance(achieved, int | float) else text


def _interval_s(e2e: dict[str, Any]) -> float:
    """The scorer's checkpoint interval in the e2e run, s (results before it was recorded: 2 s)."""
    return float((e2e.get("scorer") or {}).get("checkpoint_interval_ms") or 2000) / 1000


def _backlog_text(e2e: dict[str, Any], interval_s: float) -> str:
    """The scored backlog when the latency phase's input stopped (issue #20: <= 1 s of input)."""
    backlog, seconds = (
        e2e.get("latency_scored_backlog_at_end"),
        e2e.get("latency_scored_backlog_at_end_s"),
    )
    if backlog is None or seconds is None:
        return ""
    verdict = "meets" if seconds <= 1 else "does NOT meet"
    samples = e2e.get("latency_scored_backlog_samples_s") or []
    trend = (
        f" Sampled every 5 s while the input ran: {', '.join(f'{v:g}' for v in samples)} s"
        f" (scored records become visible at checkpoints, every {interval_s:g} s, so a pipeline"
        " that keeps up shows a flat sawtooth, not a climb)."
        if samples
        else ""
    )
    last = e2e.get("latency_scored_backlog_last_4s_s")
    cycle = (
        f" Every 0.25 s over the input's last 4 s it went from {last['min']:g} s (just after a"
        f" commit) to {last['max']:g} s (just before one): with commits every {interval_s:g} s the"
        " figure at the end depends on where in that cycle the input stopped, and the lowest is"
        " the part the checkpoint cadence does not explain."
        if isinstance(last, dict)
        else ""
    )
    return (
        f" When the input stopped, {backlog:,} transactions had not landed scored: {seconds:,} s"
        f" of the offered input ({verdict} issue #20's bar of ≤ 1 s).{trend}{cycle}"
    )


def _scaled_latency_lines(e2e: dict[str, Any]) -> list[str]:
    """The latency phase at the rate scaled to this machine by the ladder's L1 (bench/e2e.py)."""
    scaled = e2e.get("latency_scaled")
    if not isinstance(scaled, dict):
        return []
    if "skipped" in scaled:
        return [f"The latency phase scaled to this machine did not run: {scaled['skipped']}.", ""]
    lat = scaled.get("latency_ms") or {}
    return [
        f"Scaled to this machine (the ladder's L1 {scaled.get('ladder_l1_us')} µs against issue "
        f"#20's {scaled.get('issue_l1_us')} µs, so 5,000 events/s there is "
        f"{scaled.get('latency_rate_target'):,} here), the same latency phase at "
        f"{_rate_text(scaled.get('latency_rate_target'), scaled.get('latency_rate_achieved'))}"
        f", run first on the drained pipeline: p50 {_ms(lat.get('p50'))}, "
        f"p95 {_ms(lat.get('p95'))}, p99 {_ms(lat.get('p99'))}."
        f"{_censored_text(scaled)}{_backlog_text(scaled, _interval_s(e2e))}",
        "",
    ]


def _censored_text(e2e: dict[str, Any]) -> str:
    """Why the percentiles are lower bounds, when some alerts never arrived within the wait."""
    censored = e2e.get("latency_censored")
    if not censored:
        return ""
    return (
        f" These are lower bounds: {censored:,} of {e2e.get('latency_expected_alerts'):,} "
        "expected alerts had not arrived by the end of the wait and are counted at the wait."
    )


def _cpu_text(cpu: dict[str, Any], events: Any) -> str:
    """``stage 12.3 s (0.31 ms/event), ...``, busiest first."""
    if not cpu:
        return "—"
    parts = []
    for stage, seconds in sorted(cpu.items(), key=lambda kv: -float(kv[1])):
        per = (
            f" ({seconds * 1000 / events:.2f} ms/event)"
            if isinstance(events, int) and events > 0
            else ""
        )
        parts.append(f"{stage} {seconds:,.1f} s{per}")
    return ", ".join(parts) + (f" for {events:,} events" if isinstance(events, int) else "")


DATED_SECTION = re.compile(r"^## \d{4}-\d{2}-\d{2}", re.MULTILINE)
"""A dated section of docs/benchmarks.md: a measurement written up by hand (``## 2026-12-05``)."""


def with_dated_sections(page: str, previous: str) -> str:
    """``page`` followed by the dated sections of the ``previous`` page, kept as they were.

    The generated part (headline table, notes, the ladder) is rewritten on every run; the dated
    write-ups below it (A/B runs, profiles, decisions) are history and must survive ``make bench``.
    """
    found = DATED_SECTION.search(previous)
    if found is None:
        return page
    return page.rstrip("\n") + "\n\n" + previous[found.start() :]


def main() -> int:
    """Write latest.json and docs/benchmarks.md (keeping its dated sections)."""
    latest = aggregate()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2) + "\n", encoding="utf-8")
    doc = ROOT / "docs" / "benchmarks.md"
    previous = doc.read_text(encoding="utf-8") if doc.is_file() else ""
    doc.write_text(with_dated_sections(markdown(latest), previous), encoding="utf-8")
    print(json.dumps({k: v for k, v in latest.items() if k != "components"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
