"""End-to-end benchmark: producer -> Kafka -> PyFlink scorer -> ingestor -> PostgreSQL bronze.

Against the real local infra (``make up``) with throwaway topics and a throwaway database, it
starts the real PyFlink scoring job (in ``services/fraud-scorer/.venv``) and the real ingestor
(every topic into bronze, so each transaction lands twice: raw and scored), then:

0. Warm-up: a few thousand transactions must come out the far end (proves the pipeline is up and
   excludes the MiniCluster's start-up from every figure).
1. Throughput: ``--events`` transactions produced as fast as possible (``--burst template``:
   the latency phase's template stamped with the wall clock, as a live stream is, the default;
   ``--burst generator``: the generator over 2 days of event time, which closes a store window
   on nearly every transaction); events/s = those transactions / the time from the first to
   the last of them landed in ``bronze.scored_transactions`` (every one must also be in
   ``bronze.transactions``).
2. Latency: transactions at ``--latency-rate`` events/s for ``--latency-seconds``; 1% of them
   belong to blacklisted customers, so each of those must raise an alert. Latency = the alert
   readable by a read_committed consumer minus the transaction's Kafka timestamp. Alerts still
   missing ``--latency-wait`` seconds after the last send are counted as censored at that wait, so
   the percentiles are then lower bounds (``latency_censored`` says how many).
   On a machine slower than issue #20's (the ladder's L1 of the same ``make bench`` run above
   the issue's 16.4 µs), the same phase runs first at the rate scaled to this machine,
   ``--latency-rate`` x 16.4 / L1 (``latency_scaled``): the issue's rule that the ratios are then
   the bar, applied to its latency bar. Both phases start with the pipeline drained.
3. CPU seconds per stage for each phase, from ``/proc/<pid>/stat`` of every process tree (Kafka
   broker, PostgreSQL, Flink job, ingestor; the generator from its rusage). Kafka and PostgreSQL
   are shared with whatever else runs on the machine: ``load_average_before`` says how busy it was.
4. Ratios for issue #20: the max rate over ``bench/scorer_flink.py``'s of the same ``make bench``
   run (``vs_scorer_alone``), and the transactions not yet landed scored when the latency
   phase's input stops, in seconds of that input (``latency_scored_backlog_at_end_s``); sampled
   every 0.25 s over the input's last 4 s, its lowest (just after a checkpoint commit) and
   highest (just before one), ``latency_scored_backlog_last_4s_s``.

Fails loudly (exit 1, the stage and the tail of its log) if a service dies or nothing lands within
the timeouts; never waits without a deadline. Writes ``bench/results/e2e.json``. Command:
``scripts/uv.sh run python bench/e2e.py [--events 40000] [--latency-rate 5000]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Consumer, Message, Producer, TopicPartition
from psycopg import sql

from streamflow.events import encode, examples
from streamflow.fraud_scorer.config import Settings as ScorerSettings
from streamflow.platform.kafka import (
    consumer_config,
    delete_topics,
    ensure_topics,
    producer_config,
    topic_record_count,
)
from streamflow.platform.migrations import migrate
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.thread_cpu import stop_group  # noqa: E402

RESULT = ROOT / "bench" / "results" / "e2e.json"
COMMAND = "scripts/uv.sh run python bench/e2e.py"
FLINK_PYTHON = ROOT / "services" / "fraud-scorer" / ".venv" / "bin" / "python"
LOCAL_DIR = Path(os.environ.get("STREAMFLOW_LOCAL_DIR", str(ROOT / ".local")))
CLK_TCK = os.sysconf("SC_CLK_TCK")
BLACKLIST_EVERY = 100  # 1% of the customers are blacklisted, as in bench/scorer_flink.py
LATENCY_CUSTOMERS = 50_000
"""Customers of the warm-up, phase 1 and phase 2: ``bench/scorer_flink.py``'s ``CUSTOMERS``, so
that ``vs_scorer_alone`` divides by the same kind of stream (ADR 0122). With 5,000 customers at
the wall clock a customer paid about every 2 s of event time in phase 1 (every second in phase 2),
the velocity rules fired on 43% of the transactions and the alert path, not the pipeline's
steady state, set the scorer's, the ingestor's and PostgreSQL's cost per event."""
WARMUP_EVENT_TIME = "2026-09-30T12:00:00Z"


class BenchError(RuntimeError):
    """A stage died, or nothing landed within a timeout: the run is void."""


# ------------------------------------------------------------------------ CPU from /proc


@dataclass(frozen=True)
class ProcInfo:
    """One process: its parent, its CPU seconds (own + reaped children) and its command line."""

    ppid: int
    cpu_s: float
    cmdline: str


def read_proc(pid: int) -> ProcInfo | None:
    """``/proc/<pid>`` of a live process, None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of proc(5)): ppid is field 4, utime..cstime are 14..17.
    ticks = sum(int(x) for x in fields[11:15])
    return ProcInfo(int(fields[1]), ticks / CLK_TCK, cmdline.decode(errors="replace").strip())


def process_table() -> dict[int, ProcInfo]:
    """Every live process of the machine."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = read_proc(int(entry.name))
            if info is not None:
                table[int(entry.name)] = info
    return table


def tree(root: int, table: dict[int, ProcInfo]) -> list[int]:
    """``root`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info.ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def tree_cpu_s(root: int, table: dict[int, ProcInfo], match: str | None = None) -> float:
    """CPU seconds of a process tree (children that exited are in their parent's cutime/cstime).

    With ``match``, only the processes whose command line contains it (e.g. the PostgreSQL
    backends of one database).
    """
    return sum(
        table[pid].cpu_s
        for pid in tree(root, table)
        if match is None or match in table[pid].cmdline
    )


def tracked_pid(name: str) -> int | None:
    """The pid in ``.local/run/<name>.pid`` (written by scripts/infra/lib.sh), if any."""
    try:
        return int((LOCAL_DIR / "run" / f"{name}.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class CpuMeter:
    """CPU seconds per stage between two snapshots."""

    roots: dict[str, int]
    pg_database: str
    _before: dict[str, float] = field(default_factory=dict)

    def snapshot(self) -> dict[str, float]:
        """CPU seconds so far of every stage (and of this benchmark's own process)."""
        table = process_table()
        out = {name: tree_cpu_s(pid, table) for name, pid in self.roots.items()}
        if "postgresql" in self.roots:
            # Backend title: "postgres: <user> <database> <client> <state>".
            out["postgresql_bench_db_backends"] = tree_cpu_s(
                self.roots["postgresql"], table, match=f" {self.pg_database} "
            )
        times = os.times()
        out["bench_driver"] = times.user + times.system
        out["generator"] = _children_cpu_s()
        return out

    def start(self) -> None:
        """Take the 'before' snapshot."""
        self._before = self.snapshot()

    def stop(self) -> dict[str, float]:
        """CPU seconds per stage since :meth:`start`."""
        after = self.snapshot()
        return {k: round(after[k] - self._before.get(k, 0.0), 2) for k in after}


def _children_cpu_s() -> float:
    """CPU of the reaped children of this process: only the generator is reaped mid-run."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ------------------------------------------------------------------------ services


@dataclass
class Service:
    """A service started by the benchmark, in its own session (its whole tree is stopped)."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def check(self) -> None:
        """Raise :class:`BenchError` with the tail of its log if it has exited."""
        code = self.proc.poll()
        if code is not None:
            raise BenchError(f"{self.name} exited with code {code}; last log lines:\n{self.tail()}")

    def tail(self, lines: int = 25) -> str:
        """The last lines of its log."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``timeout_s`` (bench/thread_cpu.py)."""
        stop_group(self.proc, timeout_s)


def start_service(name: str, cmd: list[str], env: dict[str, str], work: Path) -> Service:
    """Start ``cmd`` detached, output in ``work/<name>.log``."""
    log = work / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreters and modules
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, proc, log)


# ------------------------------------------------------------------------ waiting


def say(text: str) -> None:
    """A progress line."""
    print(f"[e2e {datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def wait_until(
    what: str,
    progress: Callable[[], int],
    target: int,
    *,
    services: list[Service],
    timeout_s: float,
    stall_s: float,
) -> float:
    """Poll ``progress()`` until it reaches ``target``; return the elapsed seconds.

    Raises :class:`BenchError` if a service dies, if nothing moves for ``stall_s`` or if
    ``timeout_s`` passes.
    """
    start = last_move = last_say = time.monotonic()
    seen = -1
    while True:
        for service in services:
            service.check()
        value = progress()
        now = time.monotonic()
        if value >= target:
            return now - start
        if value != seen:
            seen, last_move = value, now
        if now - last_move > stall_s:
            raise BenchError(f"{what}: stuck at {value:,}/{target:,} for {stall_s:.0f}s")
        if now - start > timeout_s:
            raise BenchError(f"{what}: only {value:,}/{target:,} after {timeout_s:.0f}s")
        if now - last_say >= 10:
            say(f"{what}: {value:,}/{target:,}")
            last_say = now
        time.sleep(1.0)


# ------------------------------------------------------------------------ Kafka and bronze


@dataclass(frozen=True)
class Landed:
    """Counts in bronze: raw side (transactions + ingestor dead letters of the raw topic) and
    scored side (scored transactions + the scorer's rejects of the raw topic)."""

    raw: int
    scored: int


_COUNTING: dict[str, psycopg.Connection[Any]] = {}
"""One open connection per database for the progress counts (closed by :func:`throwaway`)."""


def _counting(pg: PostgresSettings) -> psycopg.Connection[Any]:
    dsn = pg.dsn()
    conn = _COUNTING.get(dsn)
    if conn is None or conn.closed:
        conn = _COUNTING[dsn] = psycopg.connect(dsn, autocommit=True)
    return conn


def close_counting() -> None:
    """Close the progress-count connections."""
    while _COUNTING:
        _COUNTING.popitem()[1].close()


def landed(pg: PostgresSettings, raw_topic: str) -> Landed:
    """What has landed in bronze so far.

    Polled every second while stages drain, on one kept connection: a new connection per poll
    (a PostgreSQL backend started each time) cost the server more CPU than the counts.
    """
    row = (
        _counting(pg)
        .execute(
            "select (select count(*) from bronze.transactions)"
            " + (select count(*) from bronze.dead_letters where kafka_topic = %(raw)s),"
            " (select count(*) from bronze.scored_transactions)"
            " + (select count(*) from bronze.dlq_events where stage = 'scorer'"
            "    and source_topic = %(raw)s)",
            {"raw": raw_topic},
        )
        .fetchone()
    )
    return Landed(int(row[0]), int(row[1])) if row else Landed(0, 0)


def server_now(pg: PostgresSettings) -> datetime:
    """PostgreSQL's clock (``ingested_at`` is stamped with it)."""
    with psycopg.connect(pg.dsn()) as conn:
        row = conn.execute("select clock_timestamp()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def landing_window(pg: PostgresSettings, table: str, since: datetime) -> tuple[float, int]:
    """(seconds from the first to the last row ingested after ``since``, rows) of a bronze table."""
    with psycopg.connect(pg.dsn()) as conn:
        row = conn.execute(
            sql.SQL(
                "select extract(epoch from max(ingested_at) - min(ingested_at)), count(*)"
                " from bronze.{} where ingested_at > %s"
            ).format(sql.Identifier(table)),
            (since,),
        ).fetchone()
    if not row or row[0] is None:
        return 0.0, 0
    return float(row[0]), int(row[1])


class Sender:
    """Transactions for the warm-up and the latency phase, from one encoded template.

    Building a pydantic model per event would cost the driver more CPU than the stages it
    measures; the template is a valid contract record with its ids, amount and time replaced.
    """

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        template = encode(examples.transaction("TXID", "CUSTID")).decode()
        self._template = template.replace('"2026-11-01T14:30:00Z"', '"EVTIME"').replace(
            '"4800.00"', '"AMOUNT"'
        )
        self._topic = topic
        self.producer = Producer(producer_config(kafka, "bench-e2e"))

    @staticmethod
    def customer(i: int) -> str:
        """The customer of the i-th transaction."""
        return f"E{i % LATENCY_CUSTOMERS:05d}"

    @staticmethod
    def blacklisted(customer: str) -> bool:
        """Whether that customer is on the benchmark's blacklist."""
        return int(customer[1:]) % BLACKLIST_EVERY == 0

    def send(
        self, i: int, event_time: str, on_delivery: Callable[[Any, Message], None] | None
    ) -> str:
        """Produce the i-th transaction; return its id."""
        customer = self.customer(i)
        tid = f"e2e-{i:09d}"
        value = (
            self._template.replace("TXID", tid)
            .replace("CUSTID", customer)
            .replace("EVTIME", event_time)
            .replace("AMOUNT", f"{20 + (i * 7919) % 300}.{i % 100:02d}")
        )
        key = b'{"customer_id":"' + customer.encode() + b'"}'
        while True:
            try:
                if on_delivery is None:
                    self.producer.produce(self._topic, key=key, value=value.encode())
                else:
                    self.producer.produce(
                        self._topic, key=key, value=value.encode(), on_delivery=on_delivery
                    )
                return tid
            except BufferError:
                self.producer.poll(0.05)


def now_text() -> str:
    """The current time as the contract writes it (whole seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AlertReader(threading.Thread):
    """Reads ``fraud.alerts`` from its current end, noting when each alert became readable."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = Consumer(consumer_config(kafka, f"bench-e2e-alerts-{uuid.uuid4().hex[:6]}"))
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = []
        for p in partitions:
            _low, high = self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends.append(TopicPartition(topic, p, high))
        self.consumer.assign(ends)
        self.readable: dict[str, float] = {}
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        """Consume until stopped."""
        while not self._halt.is_set():
            for msg in self.consumer.consume(1000, timeout=0.2):
                if msg.error() is None:
                    now = time.time()
                    tid = json.loads(msg.value() or b"{}").get("transaction_id", "")
                    with self._lock:
                        self.readable.setdefault(tid, now)
        self.consumer.close()

    def seen(self) -> dict[str, float]:
        """transaction_id -> first time an alert for it was readable."""
        with self._lock:
            return dict(self.readable)

    def stop(self) -> None:
        """Stop consuming and close the consumer."""
        self._halt.set()
        self.join(timeout=10)


def percentile_ms(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of seconds, in ms."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


# ------------------------------------------------------------------------ the run


@dataclass
class Run:
    """Everything one benchmark run uses."""

    args: argparse.Namespace
    kafka: KafkaSettings
    pg: PostgresSettings
    topics: TopicSettings
    work: Path
    env: dict[str, str]
    services: list[Service] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    sent: int = 0
    """Transactions sent to the raw topic so far (every phase's, the warm-up's included)."""


def child_env(topics: TopicSettings, database: str, suffix: str, work: Path) -> dict[str, str]:
    """The environment of the services: throwaway topics, database, groups and state."""
    env = dict(os.environ)
    env.update({f"STREAMFLOW_TOPIC_{k.upper()}": v for k, v in topics.model_dump().items()})
    rules = work / "rules.json"
    blacklist = [
        Sender.customer(c)
        for c in range(LATENCY_CUSTOMERS)
        if Sender.blacklisted(Sender.customer(c))
    ]
    rules.write_text(json.dumps({"version": 1, "blacklist": {"customer_ids": blacklist}}))
    env.update(
        {
            "STREAMFLOW_PG_DATABASE": database,
            "STREAMFLOW_SCORER_GROUP_ID": f"bench-e2e-{suffix}-scorer",
            "STREAMFLOW_SCORER_TRANSACTIONAL_ID_PREFIX": f"bench-e2e-{suffix}",
            "STREAMFLOW_SCORER_CHECKPOINT_DIR": (work / "ckpt").as_uri(),
            "STREAMFLOW_SCORER_RESTORE": "none",
            "STREAMFLOW_SCORER_RULES_FILE": str(rules),
            "STREAMFLOW_SCORER_METRICS_PORT": str(free_loopback_port()),
            "STREAMFLOW_FLINK_LOG_DIR": str(work / "flink-logs"),
            "STREAMFLOW_INGESTOR_GROUP_ID": f"bench-e2e-{suffix}-ingestor",
            "STREAMFLOW_INGESTOR_METRICS_PORT": "0",
            "STREAMFLOW_GENERATOR_METRICS_PORT": "0",
        }
    )
    return env


def start_pipeline(run: Run) -> None:
    """The ingestor and the PyFlink job, both on the throwaway topics and database."""
    if not FLINK_PYTHON.exists():
        raise BenchError(f"{FLINK_PYTHON} is missing: run 'make setup'")
    say("starting the ingestor and the PyFlink scoring job")
    run.services.append(
        start_service(
            "ingestor", [sys.executable, "-m", "streamflow.ingestor", "run"], run.env, run.work
        )
    )
    flink_env = dict(run.env)
    flink_env["PATH"] = os.pathsep.join([str(FLINK_PYTHON.parent), flink_env.get("PATH", "")])
    run.services.append(
        start_service(
            "scorer",
            [str(FLINK_PYTHON), "-m", "streamflow.fraud_scorer.fraud_job"],
            flink_env,
            run.work,
        )
    )


def warm_up(run: Run) -> None:
    """Send a few thousand transactions and wait until they are through both stages."""
    sender = Sender(run.kafka, run.topics.transactions_raw)
    # Event time just before the generator's first day (its default --start), so the burst that
    # follows is not late against the job's watermark.
    when = WARMUP_EVENT_TIME
    for i in range(run.args.warmup):
        sender.send(10**8 + i, when, None)
    sender.producer.flush(60)
    say(f"warm-up: {run.args.warmup:,} transactions sent; waiting for the MiniCluster to start")
    took = wait_until(
        "warm-up, scored side",
        lambda: landed(run.pg, run.topics.transactions_raw).scored,
        run.args.warmup,
        services=run.services,
        timeout_s=run.args.startup_timeout,
        stall_s=run.args.startup_timeout,
    )
    say(f"warm-up done after {took:.0f}s")
    run.result["startup_and_warmup_s"] = round(took, 1)
    run.sent += run.args.warmup


def generator_burst(run: Run) -> None:
    """Phase 1's transactions from the generator (``--burst generator``): realistic mix, 2 days of
    event time, so nearly every transaction closes a store window (far more windows per
    transaction than a live stream has)."""
    args = run.args
    say(f"throughput: the generator produces {args.events:,} transactions, unpaced")
    gen_log = run.work / "generator.log"
    with gen_log.open("wb") as out:
        gen = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "streamflow.generator",
                "--seed",
                str(args.seed),
                "--count",
                str(args.events),
                "--days",
                "2",
                "--customers",
                "5000",
                "--no-seed-reference",
                "--metrics-port",
                "0",
                "--quiet",
            ],
            cwd=ROOT,
            env=run.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=args.stage_timeout,
            check=False,
        )
    if gen.returncode != 0:
        tail = "\n".join(gen_log.read_text(errors="replace").splitlines()[-20:])
        raise BenchError(f"the generator exited with code {gen.returncode}:\n{tail}")


def template_burst(run: Run) -> None:
    """Phase 1's transactions from the template (``--burst template``, the default), unpaced,
    stamped with the wall clock like a live stream: as many store windows per transaction as
    the latency phase and ``bench/scorer_flink.py`` (whose rate ``vs_scorer_alone`` divides by)."""
    args = run.args
    say(f"throughput: {args.events:,} template transactions, unpaced, event time = now")
    sender = Sender(run.kafka, run.topics.transactions_raw)
    # ids after the warm-up's, before the latency phase's; unpaced
    send_paced(run, sender, args.events, None, base=10**8 + args.warmup, rate=math.inf)
    if sender.producer.flush(60) > 0:
        raise BenchError("phase 1: transactions still unsent after 60 s")


def throughput(run: Run, meter: CpuMeter) -> None:
    """Phase 1: a burst (template or generator), drained through both stages."""
    args = run.args
    before_raw = topic_record_count(run.kafka, run.topics.transactions_raw)
    before = landed(run.pg, run.topics.transactions_raw)
    mark = server_now(run.pg)
    meter.start()
    t0 = time.monotonic()
    (generator_burst if args.burst == "generator" else template_burst)(run)
    gen_s = time.monotonic() - t0
    produced = topic_record_count(run.kafka, run.topics.transactions_raw) - before_raw
    if produced <= 0:
        raise BenchError("phase 1 produced nothing to transactions.raw")
    say(f"throughput: {produced:,} raw records produced in {gen_s:.1f}s; draining")
    run.sent += produced
    raw_topic = run.topics.transactions_raw
    sides: dict[str, Callable[[], int]] = {
        "raw": lambda: landed(run.pg, raw_topic).raw,
        "scored": lambda: landed(run.pg, raw_topic).scored,
    }
    for side, progress in sides.items():
        wait_until(
            f"throughput, {side} side",
            progress,
            getattr(before, side) + produced,
            services=run.services,
            timeout_s=args.stage_timeout,
            stall_s=args.stall_timeout,
        )
    cpu = meter.stop()
    scored_s, scored_rows = landing_window(run.pg, "scored_transactions", mark)
    raw_s, raw_rows = landing_window(run.pg, "transactions", mark)
    # The whole window: first row of either table to the last row of either.
    both_s = _span(run.pg, mark)
    rate = produced / scored_s if scored_s > 0 else None
    run.result.update(
        {
            "events": produced,
            "burst": args.burst,
            # Wall time of producing the burst (the generator's: its start-up included; its
            # own figure is in bench/results/generator.json).
            "burst_wall_s": round(gen_s, 2),
            "max_events_per_s": round(rate, 1) if rate else None,
            "scored_landing_window_s": round(scored_s, 2),
            "scored_rows": scored_rows,
            "raw_landing_window_s": round(raw_s, 2),
            "raw_rows": raw_rows,
            "raw_rows_per_s": round(raw_rows / raw_s, 1) if raw_s > 0 else None,
            "both_sides_window_s": round(both_s, 2),
            "bronze_rows_per_s_both_sides": round((raw_rows + scored_rows) / both_s, 1)
            if both_s > 0
            else None,
            "cpu_by_stage": cpu,
            "cpu_ms_per_event_by_stage": {k: round(v * 1000 / produced, 3) for k, v in cpu.items()},
            "bottleneck_stage": _bottleneck(cpu),
        }
    )


def _span(pg: PostgresSettings, since: datetime) -> float:
    with psycopg.connect(pg.dsn()) as conn:
        row = conn.execute(
            "select extract(epoch from max(t) - min(t)) from ("
            " select ingested_at t from bronze.transactions where ingested_at > %(s)s"
            " union all"
            " select ingested_at from bronze.scored_transactions where ingested_at > %(s)s) x",
            {"s": since},
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def _bottleneck(cpu: dict[str, float]) -> str:
    """The pipeline stage that burnt the most CPU (the shared-infra totals included)."""
    stages = {k: v for k, v in cpu.items() if k not in {"bench_driver", "generator"}}
    stages.pop("postgresql_bench_db_backends", None)
    return max(stages, key=lambda k: stages[k]) if stages else "unknown"


POLL_EVERY = 50
PACE_SLICE_S = 0.005
"""The paced sender serves delivery reports every ``POLL_EVERY`` sends and sleeps only when it
is this far ahead of its schedule: at 5,000 events/s, polling after every send and sleeping in
1 ms slices cost the driver 84 µs of CPU per event, a fifth of the machine's CPU taken from the
pipeline it measures. Each record's Kafka timestamp is still taken when it is produced."""


SAMPLE_EVERY_S = 5.0
"""How often a paced phase samples the scored backlog..."""
FINAL_SAMPLES_S = 4.0
"""...and in its last this many seconds (several of the job's checkpoint intervals)..."""
FINAL_SAMPLE_EVERY_S = 0.25
"""...how often: scored records become visible only when a checkpoint commits, so the backlog
climbs between two commits and drops at each; sampled finely it shows both ends of that cycle."""


def sample_period(sent: int, total: int, rate: float) -> float:
    """Seconds between two backlog samples once ``sent`` of ``total`` are sent at ``rate``/s."""
    final = total - rate * FINAL_SAMPLES_S
    return FINAL_SAMPLE_EVERY_S if sent >= final else SAMPLE_EVERY_S


def send_paced(  # noqa: PLR0917 - the phase's whole context
    run: Run,
    sender: Sender,
    total: int,
    delivered: Callable[[Any, Message], None] | None,
    base: int,
    rate: float,
    sample: Callable[[int, bool], None] | None = None,
) -> int:
    """Send ``total`` transactions stamped with the wall clock at ``rate`` with ids from ``base``;
    return how many must alert (``delivered`` is called for those). ``sample`` is called with
    the number sent so far every :func:`sample_period` of sending, and whether that is one of
    the final samples."""
    t0 = time.time()
    when, when_at, sampled_at = now_text(), t0, t0
    expected = 0
    for n in range(total):
        if n % 1000 == 0:
            for service in run.services:
                service.check()
        now = time.time()
        if now - when_at >= 1:
            when, when_at = now_text(), now
        period = sample_period(n, total, rate)
        if sample is not None and now - sampled_at >= period:
            sampled_at = now
            sample(n, period < SAMPLE_EVERY_S)
        i = base + n
        hit = Sender.blacklisted(Sender.customer(i))
        expected += hit
        sender.send(i, when, delivered if hit else None)
        if n % POLL_EVERY == 0:
            sender.producer.poll(0)
        ahead = t0 + (n + 1) / rate - time.time()
        if ahead > PACE_SLICE_S:
            time.sleep(ahead)
    sender.producer.poll(0)
    return expected


def latency(  # noqa: PLR0917 - the phase's whole context
    run: Run, meter: CpuMeter, rate: int, base: int, into: dict[str, Any], what: str = "latency"
) -> None:
    """Phase 2: a paced stream at ``rate``; blacklisted customers' transactions -> alert readable.

    Transaction ids start at ``base``; the figures go into ``into``. It starts once every earlier
    transaction has landed scored, so no earlier phase's backlog is in its figures.
    """
    args = run.args
    wait_until(
        f"{what}: the earlier phases drained",
        lambda: landed(run.pg, run.topics.transactions_raw).scored,
        run.sent,
        services=run.services,
        timeout_s=args.stage_timeout,
        stall_s=args.stall_timeout,
    )
    sender = Sender(run.kafka, run.topics.transactions_raw)
    reader = AlertReader(run.kafka, run.topics.fraud_alerts)
    reader.start()
    appended: dict[str, float] = {}
    failed: list[str] = []

    def delivered(err: Any, msg: Message) -> None:
        if err is not None:
            failed.append(str(err))
            return
        tid = json.loads(msg.value() or b"{}")["transaction_id"]
        appended[tid] = msg.timestamp()[1] / 1000.0

    total = rate * args.latency_seconds
    before = run.sent  # landed scored before this phase (drained above)
    samples: list[float] = []
    final: list[float] = []

    def sample(sent: int, last_seconds: bool) -> None:
        # Input offered but not landed scored yet, in seconds of input (visible at checkpoints).
        behind = before + sent - landed(run.pg, run.topics.transactions_raw).scored
        (final if last_seconds else samples).append(round(behind / rate, 2))

    meter.start()
    say(f"{what}: {rate:,} events/s for {args.latency_seconds}s ({total:,} events)")
    t0 = time.time()
    expected = send_paced(run, sender, total, delivered, base=base, rate=rate, sample=sample)
    sender.producer.flush(60)
    sent_s = time.time() - t0
    run.sent += total
    # What has not landed scored when the input stops (issue #20: <= 1 s of the offered input).
    backlog = run.sent - landed(run.pg, run.topics.transactions_raw).scored
    if failed:
        raise BenchError(f"{len(failed)} sends failed, e.g. {failed[0]}")
    say(f"{what}: sent at {total / sent_s:,.0f}/s; waiting up to {args.latency_wait}s for alerts")
    deadline = time.monotonic() + args.latency_wait
    while time.monotonic() < deadline:
        for service in run.services:
            service.check()
        if all(tid in reader.seen() for tid in appended):
            break
        time.sleep(0.5)
    waited_until = time.time()
    seen = reader.seen()
    reader.stop()
    cpu = meter.stop()
    measured = [seen[tid] - ts for tid, ts in appended.items() if tid in seen]
    censored = [waited_until - ts for tid, ts in appended.items() if tid not in seen]
    values = measured + censored
    scored = landed(run.pg, run.topics.transactions_raw).scored
    into.update(
        {
            "latency_rate_target": rate,
            "latency_rate_achieved": round(total / sent_s, 1),
            "latency_seconds": args.latency_seconds,
            "latency_expected_alerts": expected,
            "latency_alerts_measured": len(measured),
            "latency_censored": len(censored),
            "latency_ms": {
                "p50": percentile_ms(values, 0.50),
                "p95": percentile_ms(values, 0.95),
                "p99": percentile_ms(values, 0.99),
            },
            "latency_ms_of_arrived_only": {
                "p50": percentile_ms(measured, 0.50),
                "p99": percentile_ms(measured, 0.99),
                "max": percentile_ms(measured, 1.0),
            },
            "latency_scored_backlog_at_end": backlog,
            "latency_scored_backlog_at_end_s": round(backlog / rate, 2),
            # The same every 5 s while sending: flat = no growing lag (checkpoint commits
            # keep it above 0 even when the pipeline keeps up).
            "latency_scored_backlog_samples_s": samples,
            # Every 0.25 s over the input's last 4 s: the lowest is the backlog just after a
            # commit (what the checkpoint cadence does not explain), the highest just before one.
            "latency_scored_backlog_last_4s_s": (
                {"min": min(final), "max": max(final), "samples": len(final)} if final else None
            ),
            "latency_scored_backlog_after_wait": run.sent - scored,
            "cpu_by_stage_latency_phase": cpu,
        }
    )


ISSUE_L1_US = 16.4
"""Issue #20's L1 (µs of job CPU per event) on the machine its absolute bars were set on."""
LADDER = RESULT.parent / "ladder.json"


def scaled_rate(rate: int, now: float) -> dict[str, Any]:
    """The latency rate scaled to this machine by the ladder's L1 of the same ``make bench`` run.

    ``{"rate": rate x 16.4 / L1 (to 10 events/s), "ladder_l1_us": ..., "ladder_date": ...}``, or
    ``{"skipped": why}``: no fresh ladder result, or a machine at least as fast as the issue's.
    """
    try:
        age = now - LADDER.stat().st_mtime
        ladder = json.loads(LADDER.read_text(encoding="utf-8"))
        l1 = ladder["scorer"]["rungs"]["L1"]
        l1_us = float(l1["job_cpu_us_per_event"])
    except (OSError, ValueError, KeyError, TypeError):
        return {"skipped": "no ladder result (bench/results/ladder.json) with an L1 rung"}
    if not 0 <= age <= SAME_RUN_S:
        return {"skipped": f"the ladder result is {age / 3600:.1f} h old, not this bench run's"}
    if l1_us <= ISSUE_L1_US:
        return {"skipped": f"L1 {l1_us} µs: this machine is not slower than issue #20's"}
    return {
        "rate": max(10, int(round(rate * ISSUE_L1_US / l1_us, -1))),
        "ladder_l1_us": l1_us,
        "ladder_l1_loaded": bool(l1.get("loaded")),
        "ladder_date": ladder.get("date"),
        "issue_l1_us": ISSUE_L1_US,
    }


@contextmanager
def throwaway(kafka: KafkaSettings, admin_pg: PostgresSettings) -> Iterator[Run]:
    """Topics, database, work dir and services of one run; all removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    defaults = TopicSettings()
    topics = defaults.model_copy(
        update={f: f"bench-e2e-{suffix}.{d}" for f, d in defaults.model_dump().items()}
    )
    database = f"bench_e2e_{suffix}"
    work = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    ensure_topics(kafka, topics)
    with psycopg.connect(admin_pg.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    pg = admin_pg.model_copy(update={"database": database})
    run = Run(
        args=argparse.Namespace(),
        kafka=kafka,
        pg=pg,
        topics=topics,
        work=work,
        env=child_env(topics, database, suffix, work),
    )
    try:
        migrate(pg.dsn())
        yield run
    finally:
        close_counting()
        for service in reversed(run.services):
            service.stop()
        delete_topics(kafka, topics.as_map().values())
        with psycopg.connect(admin_pg.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )
        say(f"logs of this run: {work}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--events", type=int, default=40_000, help="phase 1's burst")
    p.add_argument(
        "--burst",
        choices=("template", "generator"),
        default="template",
        help="phase 1's source: template transactions at the wall clock, or the generator",
    )
    p.add_argument("--seed", type=int, default=9001, help="generator seed")
    p.add_argument("--warmup", type=int, default=2_000, help="transactions through before timing")
    p.add_argument("--latency-rate", type=int, default=5_000, help="events/s of phase 2")
    p.add_argument("--latency-seconds", type=int, default=60, help="length of phase 2")
    p.add_argument("--latency-wait", type=int, default=60, help="max wait for alerts after it")
    p.add_argument("--startup-timeout", type=float, default=420.0, help="start-up + warm-up")
    p.add_argument("--stage-timeout", type=float, default=600.0, help="max drain of phase 1")
    p.add_argument("--stall-timeout", type=float, default=90.0, help="max time without progress")
    p.add_argument(
        "--checkpoint-interval-ms",
        type=int,
        default=None,
        help="the scorer's checkpoint interval (default: its setting, 750 ms)",
    )
    p.add_argument("--no-write", action="store_true", help="print only (trial runs)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 1 with a clear message if a stage died or timed out."""
    args = parse_args(argv)
    if args.checkpoint_interval_ms is not None:  # the scorer's settings read it (child_env)
        os.environ["STREAMFLOW_SCORER_CHECKPOINT_INTERVAL_MS"] = str(args.checkpoint_interval_ms)
    kafka, admin_pg = KafkaSettings(), PostgresSettings()
    result: dict[str, Any] = {
        "component": "e2e",
        "command": COMMAND
        + "".join(
            f" --{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if k != "no_write" and v != parse_args([]).__dict__[k]
        ),
        "settings": {k: v for k, v in vars(args).items() if k != "no_write"},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scorer": {
            "execution_mode": (scorer := ScorerSettings()).execution_mode,
            "parallelism": scorer.parallelism,
            "checkpoint_interval_ms": scorer.checkpoint_interval_ms,
            "alert_delivery": "at_least_once",
            "model_path": str(scorer.model_path) if scorer.model_path else None,
        },
        "latency_definition": "alert readable by a read_committed consumer minus the "
        "transaction's Kafka record timestamp (producer CreateTime)",
    }
    try:
        with throwaway(kafka, admin_pg) as run:
            run.args = args
            run.result = result
            start_pipeline(run)
            roots = {s.name: s.proc.pid for s in run.services}
            for name, stage in (("kafka", "kafka_broker"), ("postgres", "postgresql")):
                pid = tracked_pid(name)
                if pid is not None:
                    roots[stage] = pid
            meter = CpuMeter(roots, run.pg.database)
            warm_up(run)
            throughput(run, meter)
            scaled = scaled_rate(args.latency_rate, time.time())
            if "rate" in scaled:
                latency(run, meter, int(scaled["rate"]), 3 * 10**8, scaled, "scaled latency")
            else:
                say(f"scaled latency phase skipped: {scaled['skipped']}")
            result["latency_scaled"] = scaled
            latency(run, meter, args.latency_rate, 2 * 10**8, result)
    except BenchError as exc:
        print(f"bench/e2e.py FAILED: {exc}", file=sys.stderr)
        return 1
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result.update(versus_scorer_alone(result.get("max_events_per_s"), time.time()))
    result["notes"] = notes(result)
    text = json.dumps(result, indent=2) + "\n"
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(text, encoding="utf-8")
    print(text)
    return 0


SCORER_ALONE = RESULT.parent / "scorer_flink.json"
SAME_RUN_S = 3 * 3600
"""``bench/scorer_flink.py``'s result counts as the same ``make bench`` run when this recent."""


def versus_scorer_alone(rate: float | None, now: float) -> dict[str, Any]:
    """The max rate over the scorer-alone rate of the same ``make bench`` run (issue #20: >= 0.6).

    Empty when there is no such result (the bench run alone, or the scorer's is older).
    """
    try:
        age = now - SCORER_ALONE.stat().st_mtime
        alone = json.loads(SCORER_ALONE.read_text(encoding="utf-8")).get("events_per_s")
    except (OSError, ValueError):
        return {}
    if not rate or not isinstance(alone, int | float) or alone <= 0 or not 0 <= age <= SAME_RUN_S:
        return {}
    return {
        "scorer_alone_events_per_s": alone,
        "scorer_alone_result_age_s": round(age),
        "vs_scorer_alone": round(rate / alone, 2),
    }


def notes(result: dict[str, Any]) -> str:
    """A sentence on what limited the run."""
    cpu = result.get("cpu_by_stage", {})
    events = result.get("events") or 1
    parts = ", ".join(
        f"{k} {v:.1f} s ({v * 1000 / events:.2f} ms/event)"
        for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])
    )
    text = (
        f"Phase 1 CPU by stage: {parts}. Bottleneck: {result.get('bottleneck_stage')}."
        " Kafka and PostgreSQL totals include anything else the machine ran meanwhile."
    )
    if result.get("latency_censored"):
        text += (
            f" {result['latency_censored']} of {result['latency_expected_alerts']} expected"
            f" alerts had not arrived {result['settings']['latency_wait']} s after the last send:"
            " counted at that wait, so the latency percentiles are lower bounds (the pipeline"
            " does not sustain the latency rate)."
        )
    return text


if __name__ == "__main__":
    raise SystemExit(main())
