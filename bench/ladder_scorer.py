"""The scorer's reference ladder: job CPU per event and events/s of rungs L0-L5 (PyFlink env).

``bench/ladder.py`` runs this in the PyFlink environment; alone:
``PATH=services/fraud-scorer/.venv/bin:$PATH services/fraud-scorer/.venv/bin/python
bench/ladder_scorer.py --out F``.

Every rung runs the scorer as shipped: the starter supervised model (``models/fraud-gbdt.npz``)
is current, as ``scripts/services/scorer.sh`` and the image set it, so L3-L5 score with the
learning loop's features and model in place (issue #20; before 2026-12-05 13:00 they did not,
docs/adr/0123). ``ladder.json`` records it (``supervised_model``) and whether the scoring core
ran compiled (``scoring_compiled``).

One transactions topic is pre-loaded once (the transactions of ``bench/scorer_flink.py``, same
customers, blacklist and event-time spacing); then every rung (``bench/ladder_job.py``) runs as a
job process of its own, on fresh output topics and a fresh consumer group, so it reads the same
records from the start. Throughput is timed on what a read_committed consumer sees on
``transactions.scored``: the window starts once the first ``--mark`` share (10%) of the rung's
records is visible AND the JVM's JIT has settled (its compiler threads under 5% of a core over
2 s, from /proc per thread: ``bench/thread_cpu.py``), and it ends when the rung's records after
that start are visible. So the job's start-up and its JIT warm-up fall before the window: in
short windows the compilers had used up to 39% of the job's CPU (issue #20 asks for JIT warm-up
excluded). Job CPU per event is the CPU (user + system) of the job's whole process tree over the
window, divided by the records that became visible in it; each rung also reports it per thread
group (the task thread that runs Python and its chained sinks, the Kafka producer's thread, the
JIT, GC, ...), its warm-up, whether the JIT settled and its share of the window.

Records become visible only when a checkpoint commits (every 750 ms by default), in bursts, so a
window must span several commits of a busy job. The topic holds ``--preload-factor`` (3) times the
most records any rung times, so the window ends on a commit while the job is still busy: had it
ended on the topic's last record, it would include the idle wait for the final checkpoint (more
than an interval, a large share of a fast rung's window). The fast rungs time more records
(``--scale``: L0 5x, L1 3x, L2 2x ``--events``), so that their windows, too, span several commits.
Each rung reports its window, the commits in it and ``input_exhausted`` (true: the warm-up used so
much of the topic that the window ended on its last record, idle wait included).

After the rungs, L1 and L5 run back to back ``--pairs - 1`` more times: ``L5_vs_L1``, issue #20's
ratio, is the median of the pairs' ratios, the ladder's own pair included (each pair is in
``pairs``). L5 alone moved 141.7-178.1 µs per event across nine runs of one commit within an
hour (2026-12-07), more than a single ratio can carry; the ingestor's ladder does the same
(docs/adr/0136, 0138).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

from bench.load_gate import LOAD_LIMIT, MAX_WAIT_S, wait_for_quiet  # noqa: E402
from bench.scorer_flink import CUSTOMERS, SPACING_MS, txn  # noqa: E402
from bench.thread_cpu import (  # noqa: E402
    jit_seconds,
    split,
    stop_group,
    thread_cpu,
    tree_cpu_s,
)
from streamflow import scoring  # noqa: E402
from streamflow.events import Topic, encode, encode_key  # noqa: E402
from streamflow.events.topics import TOPICS  # noqa: E402
from streamflow.fraud_scorer.config import Settings as ScorerSettings  # noqa: E402
from streamflow.platform.kafka import (  # noqa: E402
    consumer_config,
    delete_topics,
    ensure_topics,
    producer_config,
)
from streamflow.platform.settings import KafkaSettings, TopicSettings  # noqa: E402

JOB = ROOT / "bench" / "ladder_job.py"
RUNGS = ("L0", "L0m", "L1", "L2", "L3", "L3m", "L3b", "L4", "L5")
DEFAULT_RUNGS = ("L0", "L0m", "L1", "L2", "L3", "L4", "L5")
"""What ``make bench`` runs; L3m and L3b split L4 - L3 when asked for (``--rungs``)."""
WHAT = {
    "L0": "JVM only: customer-keyed Kafka source -> exactly-once keyed sink",
    "L0m": "L0 + the job's merchant-traffic hop (JVM: key by merchant, day buckets, prefix)",
    "L1": "+ key by customer (JVM), one Python keyed function: a bytes ValueState read + write",
    "L2": "+ the core's decode and validation (validate_transaction)",
    "L3": "+ the whole scoring core (state from/to bytes, held in memory for the recently "
    "active customers as the job does; score_transaction_json with the anomaly and starter "
    "supervised models), main output",
    "L3m": "L3 behind the job's merchant-traffic hop (diagnostic: L4's hop on its own)",
    "L3b": "L3 connected to the job's broadcast control inputs (diagnostic: L4's broadcast "
    "connection on its own)",
    "L4": "+ every side output: the real job's wiring with its store windows discarded",
    "L5": "the real job (fraud_job.build_pipeline: + store windows in Flink SQL, metrics sink)",
}
PAIRS = 3
"""L1 + L5 pairs: the ladder's own, then ``PAIRS - 1`` back to back; the ratio is their median."""
COMMIT_GAP_S = 0.5
JIT_SETTLED_CORES = 0.05
"""The JIT has settled when its compiler threads use less than this share of a core..."""
JIT_PROBE_S = 2.0
"""...over this long."""
WARMUP_LIMIT_S = 120.0
"""The longest warm-up waited for after the first visible record."""
INPUT_SPARE = 0.1
READ_AHEAD_S = 4.0
"""How far (in seconds of its current rate) the job may have read beyond the visible records."""
"""A window starts, settled or not, while the topic still holds its records and this share more."""
"""Records arriving after a pause this long belong to a new checkpoint's commit."""


@dataclass
class Mark:
    """A moment of the visible output: when, the job tree's CPU then, records seen by then."""

    at: float
    cpu_s: float
    seen: int
    threads: dict[str, float]
    """CPU seconds so far per thread group (:func:`bench.thread_cpu.thread_cpu`)."""


def free_port() -> int:
    """A free local TCP port (for the rung job's Prometheus reporter)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def preload(kafka: KafkaSettings, topic: str, events: int) -> float:
    """Produce ``events`` transactions as ``bench/scorer_flink.py`` does; seconds it took."""
    started = time.monotonic()
    producer = Producer(producer_config(kafka, "ladder-bench"))
    # SPACING_MS of event time apart, all in the past (the scorer dead-letters future ones).
    start = datetime.now(UTC) - timedelta(milliseconds=events * SPACING_MS + 3_600_000)
    for i in range(events):
        t = txn(i, start + timedelta(milliseconds=i * SPACING_MS), CUSTOMERS)
        while True:
            try:
                producer.produce(topic, key=encode_key(t.key()), value=encode(t))
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10_000 == 0:
            producer.poll(0)
    producer.flush(120)
    return time.monotonic() - started


def watch(  # noqa: PLR0917 - the window's whole definition
    consumer: Consumer,
    timed: int,
    available: int,
    job: subprocess.Popen[bytes],
    mark_share: float,
    limit_s: float,
    warmup_limit_s: float = WARMUP_LIMIT_S,
) -> tuple[Mark, Mark, int, bool]:
    """Consume until ``timed`` records after the start mark are visible (or all ``available``).

    The start mark is the first moment when at least ``mark_share`` of ``timed`` records are
    visible and the JIT has settled: its compiler threads used under :data:`JIT_SETTLED_CORES`
    over the last :data:`JIT_PROBE_S`. ``warmup_limit_s`` after the first record, or when the
    unread records would no longer cover the window, the mark is taken anyway and the fourth
    value, ``jit_settled``, is false. Also counts the commits
    (bursts of visible records) after the start mark.
    """
    seen = 0
    start: Mark | None = None
    settled = False
    first_at: float | None = None
    probe_at, probe_jit = 0.0, 0.0
    last_arrival = 0.0
    commits = 0
    deadline = time.monotonic() + limit_s
    while start is None or seen < min(start.seen + timed, available):
        if time.monotonic() > deadline:
            msg = f"only {seen} records visible after {limit_s:.0f} s (timing {timed})"
            raise TimeoutError(msg)
        if job.poll() is not None:
            msg = f"the rung's job exited with {job.returncode} after {seen} records"
            raise RuntimeError(msg)
        good = [m for m in consumer.consume(10_000, timeout=0.2) if m.error() is None]
        now = time.monotonic()
        if start is None and seen >= timed * mark_share and now - probe_at >= JIT_PROBE_S:
            groups = thread_cpu(job.pid)
            jit = jit_seconds(groups)
            quiet = probe_at > 0 and (jit - probe_jit) / (now - probe_at) < JIT_SETTLED_CORES
            assert first_at is not None
            # records become visible in bursts (one per commit): the mean since the first is
            # steadier than the rate between two probes
            rate = seen / (now - first_at) if now > first_at else 0.0
            probe_at, probe_jit = now, jit
            # The topic must still hold the window's records: a warm-up that would leave too few
            # starts the window anyway (the fast rungs' JIT may compile for 20 s at 100k/s). The
            # job reads ahead of what is visible by up to a few checkpoints' worth of records.
            ahead = rate * READ_AHEAD_S
            late = seen >= available - timed * (1.0 + INPUT_SPARE) - ahead
            if quiet or late or now - first_at > warmup_limit_s:
                settled = quiet
                start = Mark(now, tree_cpu_s(job.pid), seen, groups)
                last_arrival = now
        if not good:
            continue
        seen += len(good)
        if first_at is None:
            first_at = now
        if start is not None and now - last_arrival > COMMIT_GAP_S:
            commits += 1
        last_arrival = now
    end = Mark(last_arrival, tree_cpu_s(job.pid), seen, thread_cpu(job.pid))
    assert start is not None
    return start, end, commits, settled


def supervised_model_path() -> str:
    """The starter model the shipped scorer loads; ``STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH``
    overrides it (the ladder before 2026-12-05 ran L3-L5 with no supervised model)."""
    return os.environ.get(
        "STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH", str(ROOT / "models" / "fraud-gbdt.npz")
    )


def run_rung(  # noqa: PLR0917 - the rung's whole context
    rung: str,
    kafka: KafkaSettings,
    raw_topic: str,
    events: int,
    preloaded: int,
    rules: Path,
    work: Path,
    mark_share: float,
) -> dict[str, Any]:
    """Run one rung's job on fresh output topics; its figures."""
    suffix = f"{uuid.uuid4().hex[:8]}-{rung.lower()}"
    names = {f: f"ladder-{suffix}.{d}" for f, d in TopicSettings().model_dump().items()}
    topics = TopicSettings().model_copy(update={**names, "transactions_raw": raw_topic})
    outputs = [spec for spec in TOPICS.values() if spec.topic is not Topic.TRANSACTIONS_RAW]
    ensure_topics(kafka, topics, outputs)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update({f"STREAMFLOW_TOPIC_{k.upper()}": v for k, v in topics.model_dump().items()})
    env.update(
        {
            "STREAMFLOW_SCORER_GROUP_ID": f"ladder-{suffix}",
            "STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX": f"ladder-{suffix}",
            "STREAMFLOW_SCORER_CHECKPOINT_DIR": (work / f"ckpt-{rung}").as_uri(),
            "STREAMFLOW_SCORER_RESTORE": "none",
            "STREAMFLOW_SCORER_RULES_FILE": str(rules),
            "STREAMFLOW_SCORER_METRICS_PORT": str(free_port()),
            "STREAMFLOW_FLINK_LOG_DIR": str(work / f"logs-{rung}"),
            # The scorer as shipped (scripts/services/scorer.sh, the image): the starter model
            # is current, so L3-L5 score with the learning loop's features and model in place.
            "STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH": supervised_model_path(),
        }
    )
    scored = Consumer(consumer_config(kafka, f"ladder-read-{suffix}"))
    partitions = TOPICS[Topic.TRANSACTIONS_SCORED].partitions
    scored.assign([TopicPartition(topics.transactions_scored, p, 0) for p in range(partitions)])
    log = work / f"job-{rung}.log"
    started = time.monotonic()
    job = subprocess.Popen(  # noqa: S603 - this interpreter running our own rung job
        [sys.executable, str(JOB), "--rung", rung],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        start, end, commits, settled = watch(
            scored, events, preloaded, job, mark_share, limit_s=1800
        )
    except (RuntimeError, TimeoutError) as exc:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        msg = f"rung {rung}: {exc}\n--- {log} (tail) ---\n{tail}"
        raise RuntimeError(msg) from exc
    finally:
        stop_group(job, timeout_s=60)
        scored.close()
        delete_topics(kafka, [topics.name(spec.topic) for spec in outputs])
    counted = end.seen - start.seen
    window = end.at - start.at
    return {
        "what": WHAT[rung],
        "visible": end.seen,
        "first_visible_after_s": round(start.at - started, 1),
        "measured_events": counted,
        "window_s": round(window, 2),
        "commits_in_window": commits,
        "input_exhausted": end.seen >= preloaded,
        "warm_up_s": round(start.at - started, 1),
        "jit_settled": settled,
        "jit_cpu_share": (
            round(
                (jit_seconds(end.threads) - jit_seconds(start.threads)) / (end.cpu_s - start.cpu_s),
                3,
            )
            if end.cpu_s > start.cpu_s
            else None
        ),
        "threads_us_per_event": split(start.threads, end.threads, counted),
        "events_per_s": round(counted / window, 1) if window > 0 and counted else None,
        "job_cpu_us_per_event": (
            round((end.cpu_s - start.cpu_s) / counted * 1e6, 1) if counted else None
        ),
        "job_cpu_cores": round((end.cpu_s - start.cpu_s) / window, 2) if window > 0 else None,
    }


def pair_of(l1: dict[str, Any], l5: dict[str, Any]) -> dict[str, Any]:
    """One L1 + L5 pair: both rungs' CPU per event and their ratio."""
    low, high = l1.get("job_cpu_us_per_event"), l5.get("job_cpu_us_per_event")
    return {
        "L1_us": low,
        "L5_us": high,
        "ratio": round(high / low, 2) if low and high else None,
        "loaded": bool(l1.get("loaded") or l5.get("loaded")),
        "load_before": max(l1.get("load_before") or 0.0, l5.get("load_before") or 0.0),
    }


def median_ratio(pairs: list[dict[str, Any]]) -> float | None:
    """The median of the pairs' L5 / L1 ratios (None without any)."""
    ratios = [p["ratio"] for p in pairs if p.get("ratio")]
    return round(statistics.median(ratios), 2) if ratios else None


def with_ratios(rungs: dict[str, dict[str, Any]], base: str = "L1") -> None:
    """Add each rung's CPU per event and events/s as a ratio to rung ``base``'s."""
    ref = rungs.get(base, {})
    for figures in rungs.values():
        for key, ratio_key in (
            ("job_cpu_us_per_event", "cpu_per_event_vs_L1"),
            ("events_per_s", "events_per_s_vs_L1"),
        ):
            value, ref_value = figures.get(key), ref.get(key)
            figures[ratio_key] = round(value / ref_value, 2) if value and ref_value else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="records timed per rung")
    parser.add_argument(
        "--scale", default="L0=5,L0m=4,L1=3,L2=2", help="records timed per rung = events x this"
    )
    parser.add_argument("--preload-factor", type=float, default=3.0, help="topic = most x this")
    parser.add_argument(
        "--rungs", default=",".join(DEFAULT_RUNGS), help="comma-separated, e.g. L0,L1"
    )
    parser.add_argument("--mark", type=float, default=0.1, help="share before the timing starts")
    parser.add_argument(
        "--pairs", type=int, default=PAIRS, help="L1 + L5 pairs, the ladder's own included"
    )
    parser.add_argument("--load-limit", type=float, default=LOAD_LIMIT)
    parser.add_argument("--load-wait-s", type=float, default=MAX_WAIT_S)
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    args = parser.parse_args()
    rungs = [r.strip() for r in args.rungs.split(",") if r.strip()]
    unknown = sorted(set(rungs) - set(RUNGS))
    if unknown:
        parser.error(f"unknown rungs {unknown}")
    kafka = KafkaSettings()
    work = Path(tempfile.mkdtemp(prefix="ladder-scorer-"))
    rules = work / "rules.json"
    blacklisted = [f"B{c:05d}" for c in range(0, CUSTOMERS, 100)]  # as bench/scorer_flink.py
    rules.write_text(json.dumps({"version": 1, "blacklist": {"customer_ids": blacklisted}}))
    raw = TopicSettings(transactions_raw=f"ladder-{uuid.uuid4().hex[:8]}.transactions.raw")
    ensure_topics(kafka, raw, [TOPICS[Topic.TRANSACTIONS_RAW]])
    scorer = ScorerSettings()
    scale = {k.strip(): float(v) for k, v in (p.split("=") for p in args.scale.split(",") if p)}
    timed = {r: round(args.events * scale.get(r, 1.0)) for r in rungs}
    preloaded = round(max(timed.values()) * max(1.0, args.preload_factor))
    result: dict[str, Any] = {
        "events_per_rung": args.events,
        "events_timed": timed,
        "preloaded": preloaded,
        "mark_share": args.mark,
        "execution_mode": scorer.execution_mode,
        "state_backend": scorer.state_backend,
        "checkpoint_interval_ms": scorer.checkpoint_interval_ms,
        "bundle_size": scorer.bundle_size,
        "bundle_time_ms": scorer.bundle_time_ms,
        "model_loaded": scorer.model_path is not None and scorer.model_path.is_file(),
        "supervised_model": supervised_model_path(),
        "scoring_compiled": scoring.COMPILED,
        "rungs": {},
    }
    try:
        result["preload_s"] = round(preload(kafka, raw.transactions_raw, preloaded), 1)

        def measured(rung: str, label: str) -> dict[str, Any]:
            gate = wait_for_quiet(
                args.load_limit, args.load_wait_s, say=lambda text: print(text, file=sys.stderr)
            )
            print(f"==> ladder {label} (load {gate['load_before']})", file=sys.stderr)
            figures = run_rung(
                rung, kafka, raw.transactions_raw, timed[rung], preloaded, rules, work, args.mark
            )
            figures.update(
                load_before=gate["load_before"],
                load_waited_s=gate["waited_s"],
                loaded=gate["loaded"],
                load_at_end=round(os.getloadavg()[0], 2),
            )
            print(json.dumps({label: figures}), file=sys.stderr)
            return figures

        for rung in rungs:
            result["rungs"][rung] = measured(rung, rung)
        if {"L1", "L5"} <= set(rungs):
            pairs = [pair_of(result["rungs"]["L1"], result["rungs"]["L5"])]
            for n in range(2, max(1, args.pairs) + 1):
                l1, l5 = (measured(r, f"{r}, pair {n}") for r in ("L1", "L5"))
                pairs.append(pair_of(l1, l5))
            result["pairs"] = pairs
            result["L5_vs_L1"] = median_ratio(pairs)
    finally:
        delete_topics(kafka, [raw.transactions_raw])
    with_ratios(result["rungs"])
    result["loaded"] = any(r["loaded"] for r in result["rungs"].values()) or any(
        p["loaded"] for p in result.get("pairs", [])
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
