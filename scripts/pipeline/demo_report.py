"""The ``make demo`` summary: what happened at each stage, printed and written to reports/demo.html.

Reads bronze (and gold, when the warehouse ran) in PostgreSQL and the generator's labels file, then
prints the summary and writes an HTML report with PNG charts: events per stage, dead letters by
reason, alerts by rule, precision/recall against ground truth, the latency histogram from the
transaction's Kafka append time to the alert's, gold row counts, and the URLs to open.
"""

from __future__ import annotations

import argparse
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import psycopg
import pyarrow.parquet as pq

from streamflow.platform.settings import ServiceSettings, load_settings

GOLD_TABLES = (
    "fct_transactions",
    "fct_fraud_alerts",
    "dim_customer",
    "dim_merchant",
    "dim_store",
    "dim_date",
    "agg_hourly_sales",
    "agg_daily_fraud",
    "agg_detection_quality",
)


@dataclass(slots=True)
class Summary:
    """Everything the report shows."""

    stages: dict[str, int] = field(default_factory=dict)
    dead_letters: list[tuple[str, str, int]] = field(default_factory=list)
    alerts_by_rule: dict[str, int] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    gold: dict[str, int | None] = field(default_factory=dict)


def _scalar(conn: psycopg.Connection[Any], query: str) -> int:
    row = conn.execute(query.encode()).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def collect(settings: ServiceSettings, labels: Path | None) -> Summary:
    """Query bronze/gold and compare alerts with the ground truth."""
    summary = Summary()
    with psycopg.connect(settings.pg.dsn()) as conn:
        summary.stages = {
            "ingested raw transactions": _scalar(conn, "select count(*) from bronze.transactions"),
            "ingested scored transactions": _scalar(
                conn, "select count(*) from bronze.scored_transactions"
            ),
            "alerts (distinct alert_id)": _scalar(
                conn, "select count(distinct alert_id) from bronze.fraud_alerts"
            ),
            "chargebacks / feedback": _scalar(conn, "select count(*) from bronze.feedback"),
            "realtime window metrics": _scalar(
                conn, "select count(*) from bronze.realtime_metrics"
            ),
            "scorer dead letters (DLQ)": _scalar(conn, "select count(*) from bronze.dlq_events"),
            "ingestor dead letters": _scalar(conn, "select count(*) from bronze.dead_letters"),
        }
        summary.dead_letters = [
            (str(stage), str(reason), int(n))
            for stage, reason, n in conn.execute(
                "select stage, error_type, count(*) from bronze.dlq_events group by 1, 2 "
                "union all select 'ingestor', error_type, count(*) from bronze.dead_letters "
                "group by 2 order by 3 desc"
            )
        ]
        summary.alerts_by_rule = {
            str(rule): int(n)
            for rule, n in conn.execute(
                "select r->>'rule_id', count(distinct a.alert_id) from bronze.fraud_alerts a, "
                "jsonb_array_elements(a.payload->'triggered_rules') r group by 1 order by 2 desc"
            )
        }
        summary.latencies_ms = [
            float(ms)
            for (ms,) in conn.execute(
                "select extract(epoch from (a.kafka_timestamp - t.kafka_timestamp)) * 1000 "
                "from (select distinct on (alert_id) alert_id, transaction_id, kafka_timestamp "
                "      from bronze.fraud_alerts order by alert_id, kafka_offset) a "
                "join bronze.transactions t using (transaction_id) "
                "where a.kafka_timestamp is not null and t.kafka_timestamp is not null"
            )
        ]
        alerted = {
            str(t)
            for (t,) in conn.execute("select distinct transaction_id from bronze.fraud_alerts")
        }
        ingested = {
            str(t) for (t,) in conn.execute("select transaction_id from bronze.transactions")
        }
        for table in GOLD_TABLES:
            exists = conn.execute("select to_regclass(%s)", (f"gold.{table}",)).fetchone()
            summary.gold[table] = (
                _scalar(conn, f"select count(*) from gold.{table}")  # noqa: S608 - fixed names
                if exists and exists[0]
                else None
            )
    if labels is not None and labels.exists():
        summary.quality = _quality(labels, alerted, ingested)
    return summary


def _quality(labels: Path, alerted: set[str], ingested: set[str]) -> dict[str, Any]:
    table = pq.read_table(labels, columns=["transaction_id", "label", "scenario"]).to_pylist()
    labelled = {r["transaction_id"] for r in table}
    alerted = alerted & labelled  # earlier demo runs have their own labels files
    fraud = {
        r["transaction_id"] for r in table if r["label"] == 1 and r["transaction_id"] in ingested
    }
    scenario_of = {r["transaction_id"]: r["scenario"] for r in table if r["label"] == 1}
    hits = alerted & fraud
    per_scenario: dict[str, dict[str, float]] = {}
    for scenario in sorted({str(s) for s in scenario_of.values()}):
        ids = {t for t in fraud if scenario_of.get(t) == scenario}
        if ids:
            per_scenario[scenario] = {
                "fraud": len(ids),
                "recall": round(len(ids & alerted) / len(ids), 4),
            }
    return {
        "labelled_fraud": len(fraud),
        "alerts": len(alerted),
        "precision": round(len(hits) / len(alerted), 4) if alerted else None,
        "recall": round(len(hits) / len(fraud), 4) if fraud else None,
        "per_scenario": per_scenario,
    }


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _bar(path: Path, title: str, data: Mapping[str, float]) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(list(data), list(data.values()), color="#3b6ea5")
    ax.set_title(title)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_html(summary: Summary, out: Path, urls: dict[str, str]) -> None:
    """Write the report and its charts next to it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    charts: list[tuple[str, str]] = []
    if summary.stages:
        _bar(out.parent / "demo_stages.png", "Events per stage", dict(summary.stages))
        charts.append(("Events per stage", "demo_stages.png"))
    if summary.alerts_by_rule:
        _bar(out.parent / "demo_rules.png", "Alerts by rule", dict(summary.alerts_by_rule))
        charts.append(("Alerts by rule", "demo_rules.png"))
    if summary.dead_letters:
        reasons = {f"{s}: {r}": n for s, r, n in summary.dead_letters}
        _bar(out.parent / "demo_dead_letters.png", "Dead letters by reason", reasons)
        charts.append(("Dead letters by reason", "demo_dead_letters.png"))
    if summary.latencies_ms:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.hist(summary.latencies_ms, bins=40, color="#a53b3b")
        ax.set_title("Transaction append -> alert append (ms)")
        fig.tight_layout()
        fig.savefig(out.parent / "demo_latency.png", dpi=90)
        plt.close(fig)
        charts.append(("Latency", "demo_latency.png"))
    body = [
        "<h1>StreamFlow demo</h1>",
        "<h2>Summary</h2><pre>" + html.escape(render_text(summary, urls)) + "</pre>",
        *(
            f'<h2>{html.escape(t)}</h2><img src="{src}" alt="{html.escape(t)}">'
            for t, src in charts
        ),
    ]
    out.write_text(
        "<!doctype html><meta charset='utf-8'><title>StreamFlow demo</title>"
        "<body style='font-family:sans-serif;max-width:60em;margin:auto'>"
        + "\n".join(body)
        + "</body>",
        encoding="utf-8",
    )


def render_text(summary: Summary, urls: dict[str, str]) -> str:
    """The printed summary."""
    lines = ["Stages:"]
    lines += [f"  {name:<32} {n:>10,}" for name, n in summary.stages.items()]
    lines.append("Dead letters by reason:")
    lines += [f"  {s:<9} {r:<32} {n:>8,}" for s, r, n in summary.dead_letters] or ["  none"]
    lines.append("Alerts by rule:")
    lines += [f"  {r:<10} {n:>8,}" for r, n in summary.alerts_by_rule.items()] or ["  none"]
    if summary.quality:
        q = summary.quality
        lines.append(
            f"Against ground truth: precision {q['precision']}, recall {q['recall']} "
            f"({q['labelled_fraud']} labelled fraud, {q['alerts']} alerts)"
        )
        lines += [
            f"  {name:<28} recall {v['recall']:.3f} of {int(v['fraud'])}"
            for name, v in q["per_scenario"].items()
        ]
    lat = summary.latencies_ms
    lines.append(
        "Latency transaction->alert (Kafka append times): "
        + (
            f"p50 {_percentile(lat, 0.5):.0f} ms, p95 {_percentile(lat, 0.95):.0f} ms, "
            f"p99 {_percentile(lat, 0.99):.0f} ms over {len(lat):,} alerts"
            if lat
            else "no alerts"
        )
    )
    lines.append("Gold tables (rows):")
    lines += [
        f"  gold.{t:<24} {'not built' if n is None else f'{n:,}'}" for t, n in summary.gold.items()
    ]
    lines.append("Open:")
    lines += [f"  {name:<14} {url}" for name, url in urls.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Collect, print, write the HTML report (and a JSON copy for scripts)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=Path, default=None, help="generator labels parquet")
    parser.add_argument("--out", type=Path, default=Path("reports/demo.html"))
    args = parser.parse_args(argv)
    settings = load_settings(ServiceSettings)
    summary = collect(settings, args.labels)
    urls = {
        "API docs": "http://127.0.0.1:8000/docs",
        "console": "http://127.0.0.1:8000/console",
        "Prometheus": "http://127.0.0.1:9090",
        "Flink UI": "http://127.0.0.1:8081",
        "report": str(args.out.resolve()),
    }
    print(render_text(summary, urls))
    write_html(summary, args.out, urls)
    args.out.with_suffix(".json").write_text(
        json.dumps(
            {
                "stages": summary.stages,
                "dead_letters": summary.dead_letters,
                "alerts_by_rule": summary.alerts_by_rule,
                "quality": summary.quality,
                "latency_ms": {
                    "p50": _percentile(summary.latencies_ms, 0.5),
                    "p95": _percentile(summary.latencies_ms, 0.95),
                    "p99": _percentile(summary.latencies_ms, 0.99),
                },
                "gold": summary.gold,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
