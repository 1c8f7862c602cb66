"""Benchmark of the generator: events/s into the real local broker and peak memory.

One ``streamflow-generate`` process (a child, so its peak RSS is measured alone) produces N
transactions for 100,000 customers into throwaway topics on the local Kafka (``make up``); the
figure is transactions / wall seconds of the whole run (reference build, simulation, encoding,
produce and the final flush until every record is acknowledged). CPU seconds of the child and
the load average are recorded too, because the 2 cores are shared with the broker and others.

Usage: ``scripts/uv.sh run python bench/generator.py [--events 1000000] [--customers 100000]``;
writes ``bench/results/generator.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

from streamflow.platform.kafka import delete_topics, ensure_topics
from streamflow.platform.settings import KafkaSettings, TopicSettings

RESULTS = Path(__file__).resolve().parent / "results" / "generator.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    suffix = uuid.uuid4().hex[:8]
    topics = TopicSettings().model_copy(
        update={f: f"bench-{suffix}.{v}" for f, v in TopicSettings().model_dump().items()}
    )
    kafka = KafkaSettings()
    ensure_topics(kafka, topics)
    env = {
        **os.environ,
        **{f"STREAMFLOW_TOPIC_{f.upper()}": v for f, v in topics.model_dump().items()},
    }
    command = [
        sys.executable, "-m", "streamflow.generator", "--seed", "7", "--count", str(args.events),
        "--days", "30", "--customers", str(args.customers), "--no-seed-reference",
        "--metrics-port", "0", "--progress-interval", "5",
    ]  # fmt: skip
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    finally:
        delete_topics(kafka, topics.as_map().values())
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    result = {
        "component": "generator",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "scripts/uv.sh run python bench/generator.py "
        f"--events {args.events} --customers {args.customers}",
        "events": summary["transactions"],
        "customers": args.customers,
        "events_per_s": summary["events_per_s"],
        "wall_s_including_interpreter_start": round(wall, 2),
        "generator_cpu_s": round(cpu, 2),
        "events_per_cpu_s": round(summary["transactions"] / cpu, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "delivered": summary["delivered"],
        "errors": summary["errors"],
        "load_average_before": round(load_before, 2),
        "bar": {"events_per_s": 50_000, "peak_rss_mb": 300},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
