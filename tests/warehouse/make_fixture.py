"""Write the committed bronze fixture (the test kit's CSV files) with the project's own pipeline.

Seed-pinned and byte-for-byte reproducible, no Kafka or Flink needed:

1. ``streamflow.generator`` simulates the stream (reference data, transactions with their fraud
   scenarios, chargebacks due after a delay, a few malformed records), exactly as
   ``streamflow-generate`` would produce it (same ``Simulator``, ``encode_batch``,
   ``FeedbackQueue`` and ``malformed``);
2. ``streamflow.scoring.core`` scores each transaction in stream order, as the Flink job does:
   per-customer state, merchant risk as of each transaction's event time from the chargebacks
   already delivered (``MerchantLabels``, as in the job's broadcast state), the default rules with
   the generator's blacklist, alerts for scores over the threshold; records the scorer rejects
   become its dead letters (``streamflow.dlq``);
3. ``streamflow.ingestor.records.parse_records`` turns every Kafka record into the bronze row the
   ingestor writes (or the ingestor's own dead letter), with its Kafka coordinates.

The only things that differ from a live run are the clocks, which a fixture must pin: a record's
Kafka timestamp is its event time (chargebacks: ``reported_at``), the scorer's ``scored_at`` is the
event time plus a fixed pseudo-latency, and ``ingested_at`` is left to its column default (now()).
Two deliberate twists give the warehouse something to do: a few raw records are delivered twice
(a producer retry: same bytes at a later offset), and the records of a few early transactions
(their scores, alerts and chargebacks too) are held back as the ``late.*`` batch, landed after the
first warehouse run. ``expected.json`` records what the tests should find. The files are package
data of ``streamflow.testkit.bronze_fixture`` (``packages/testkit/.../testkit/data/bronze``), which
loads them; this writer stays with the tests because it runs the generator, the scorer and the
ingestor, which the test kit does not depend on.

Regenerate: ``scripts/uv.sh run python -m tests.warehouse.make_fixture``.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from streamflow.events import ContractError, DeadLetter, Feedback, Label, Topic, decode, encode
from streamflow.events.dead_letters import MAX_PAYLOAD_BYTES, Stage
from streamflow.generator.encoding import MALFORMED_KINDS, IdTables, encode_batch, malformed
from streamflow.generator.engine import RunSpec, Simulator, local_midnight_ms
from streamflow.generator.feedback import FeedbackQueue
from streamflow.generator.files import write_blacklist
from streamflow.generator.refdb import _rows as reference_rows  # the rows seed_reference writes
from streamflow.generator.reference import build_reference
from streamflow.generator.scenarios import ScenarioConfig
from streamflow.ingestor.records import PlainRecord, parse_records
from streamflow.ingestor.tables import DEAD_LETTER_COLUMNS, SPECS
from streamflow.scoring.core import (
    CustomerState,
    MerchantLabels,
    default_rules,
    score_transaction_json,
    validate_transaction,
)
from streamflow.testkit.bronze_fixture import FIXTURES

SEED = 7
TRANSACTIONS = 2000
DAYS = 8
CUSTOMERS = 150
MERCHANTS = 20
START_DAY = "2026-11-01"
FRAUD_RATE = 0.03  # above the default share so a small run has every scenario and label path
CHARGEBACK_DELAY_DAYS = 2.0  # so chargebacks of the first days land inside an 8-day run
CHARGEBACK_JITTER_HOURS = 24.0
MALFORMED_EVERY = 400  # one malformed record per this many transactions (each kind in turn)
RETRIED = (100, 1200)  # stream positions whose raw record the producer delivers twice
LATE_LEGIT = 2  # early legit transactions held back for the late batch (plus one early fraud)
REF_ORDER = ("merchants", "stores", "customers", "cards", "products")


@dataclass
class Topics:
    """Every record produced, per topic, in production order; offsets assigned on append."""

    records: dict[Topic, list[PlainRecord]] = field(default_factory=dict)

    def send(self, topic: Topic, value: bytes, key: bytes | None, when: datetime) -> None:
        log = self.records.setdefault(topic, [])
        millis = int(when.timestamp() * 1000)
        log.append(PlainRecord(topic.value, 0, len(log), millis, key, value))


@dataclass
class Scorer:
    """The Flink job's per-record logic over the scoring core (state kept in dicts)."""

    blacklist: Path
    states: dict[str, CustomerState] = field(default_factory=dict)
    labels: dict[str, MerchantLabels] = field(default_factory=dict)

    def learn(self, raw: bytes) -> None:
        feedback = decode(Feedback, raw)
        half_life = default_rules(self.blacklist).merchant_risk.half_life_days
        labels = self.labels.setdefault(feedback.merchant_id, MerchantLabels.empty())
        labels.add(feedback.reported_at.timestamp(), feedback.label is Label.FRAUD, half_life)

    def score(self, raw: bytes, key: bytes | None, seq: int, out: Topics) -> str | None:
        """Score one raw record into ``out``; returns its transaction id (None: rejected)."""
        rules = default_rules(self.blacklist)
        try:
            probe = json.loads(raw)
            event_time = datetime.fromisoformat(probe["event_time"])
        except (ValueError, KeyError, TypeError):
            event_time = datetime.fromtimestamp(0, tz=UTC)
        scored_at = event_time + timedelta(milliseconds=40 + (seq * 37) % 400)
        try:
            txn = validate_transaction(raw, now=scored_at)
        except ContractError as exc:
            letter = DeadLetter.from_raw(
                stage=Stage.SCORER,
                source_topic=Topic.TRANSACTIONS_RAW.value,
                raw=raw,
                error_type=exc.error_type,
                error_message=str(exc),
                failed_at=scored_at,
            )
            out.send(Topic.DLQ, encode(letter), None, scored_at)
            return None
        labels = self.labels.get(txn.merchant_id)
        half_life = rules.merchant_risk.half_life_days
        risk = labels.risk_at(txn.event_time.timestamp(), half_life) if labels is not None else 0.0
        after, verdict = score_transaction_json(
            self.states.get(txn.customer_id), txn, rules, risk, None, scored_at
        )
        self.states[txn.customer_id] = after
        out.send(Topic.TRANSACTIONS_SCORED, verdict.scored.encode(), key, scored_at)
        if verdict.alert is not None:
            out.send(Topic.FRAUD_ALERTS, verdict.alert.encode(), key, scored_at)
        return txn.transaction_id


def _stream(blacklist: Path) -> tuple[Topics, dict[str, str]]:
    """Generate, score and record every message; returns the topics and each tx's fate."""
    ref = build_reference(SEED, CUSTOMERS, MERCHANTS)
    write_blacklist(str(blacklist), ref)
    spec = RunSpec(SEED, TRANSACTIONS, DAYS, local_midnight_ms(START_DAY))
    ids = IdTables.build(ref, SEED)
    chargebacks = FeedbackQueue(ids, SEED, CHARGEBACK_DELAY_DAYS, CHARGEBACK_JITTER_HOURS)
    scorer = Scorer(blacklist)
    out = Topics()
    kinds: dict[str, str] = {}
    seq = 0
    for day in Simulator(ref, ScenarioConfig().scaled(FRAUD_RATE), spec).chunks():
        values, keys = encode_batch(day, ids)
        for i, (value, key) in enumerate(zip(values, keys, strict=True)):
            when = datetime.fromtimestamp(int(day.t[i]) / 1000, tz=UTC)
            sends = [value, value] if seq in RETRIED else [value]
            if seq % MALFORMED_EVERY == MALFORMED_EVERY - 1:
                sends.append(malformed(value, MALFORMED_KINDS[seq // MALFORMED_EVERY % 4]))
            for raw in sends:
                out.send(Topic.TRANSACTIONS_RAW, raw, key, when)
                txid = scorer.score(raw, key, seq, out)
                if txid is not None:
                    kinds[txid] = "fraud" if int(day.label[i]) else "legit"
            seq += 1
        chargebacks.add(day)
        due_values, due_keys = chargebacks.pop_due(int(day.t.max()) if len(day) else 0)
        _deliver_feedback(out, scorer, due_values, due_keys)
    rest_values, rest_keys = chargebacks.pop_due(None)
    _deliver_feedback(out, scorer, rest_values, rest_keys)
    return out, kinds


def _deliver_feedback(out: Topics, scorer: Scorer, values: list[bytes], keys: list[bytes]) -> None:
    for value, key in zip(values, keys, strict=True):
        reported = decode(Feedback, value).reported_at
        out.send(Topic.FRAUD_FEEDBACK, value, key, reported)
        scorer.learn(value)


def _late_ids(out: Topics, kinds: dict[str, str]) -> set[str]:
    """The earliest legit transactions plus the earliest charged-back fraud."""
    charged = {
        decode(Feedback, r.value or b"").transaction_id for r in out.records[Topic.FRAUD_FEEDBACK]
    }
    by_time = sorted(
        (json.loads(r.value or b"")["event_time"], json.loads(r.value or b"")["transaction_id"])
        for r in out.records[Topic.TRANSACTIONS_RAW]
        if _is_json_transaction(r.value)
    )
    legit = [t for _, t in by_time if kinds.get(t) == "legit"][:LATE_LEGIT]
    fraud = next(t for _, t in by_time if t in charged)
    return {*legit, fraud}


def _is_json_transaction(value: bytes | None) -> bool:
    try:
        data = json.loads(value or b"")
    except ValueError:
        return False
    return isinstance(data, dict) and "transaction_id" in data and "event_time" in data


def _transaction_id(topic: Topic, value: bytes | None) -> str | None:
    try:
        data = json.loads(value or b"")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if topic is Topic.TRANSACTIONS_SCORED:
        inner = data.get("transaction")
        return inner.get("transaction_id") if isinstance(inner, dict) else None
    txid = data.get("transaction_id")
    return txid if isinstance(txid, str) else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | int | float | str):
        text = str(value)
        if text == "":
            raise ValueError("an empty string would load as NULL")
        return text
    return str(value)


def _landed(
    records: Iterable[PlainRecord], topic: Topic
) -> tuple[list[list[str]], list[list[str]]]:
    """(bronze rows, ingestor dead-letter rows) of ``records``, as the ingestor writes them."""
    parsed = parse_records(SPECS[topic], records, MAX_PAYLOAD_BYTES)
    return (
        [[_cell(v) for v in row] for row in parsed.rows],
        [[_cell(v) for v in row] for row in parsed.dead],
    )


def build() -> dict[str, tuple[tuple[str, ...], list[list[str]]]]:
    """Every fixture table (``<schema>.<table>`` -> header, rows), deterministically."""
    with tempfile.TemporaryDirectory() as tmp:
        out, kinds = _stream(Path(tmp) / "blacklist.json")
    late = _late_ids(out, kinds)
    tables: dict[str, tuple[tuple[str, ...], list[list[str]]]] = {}
    ref = build_reference(SEED, CUSTOMERS, MERCHANTS)
    for name, (columns, rows) in reference_rows(ref).items():
        tables[f"ref.{name}"] = (tuple(columns), [[_cell(v) for v in row] for row in rows])
    dead: list[list[str]] = []
    for topic, records in out.records.items():
        spec = SPECS[topic]
        first = [r for r in records if _transaction_id(topic, r.value) not in late]
        held = [r for r in records if _transaction_id(topic, r.value) in late]
        rows, rejected = _landed(first, topic)
        tables[f"bronze.{spec.table}"] = (spec.columns, rows)
        dead.extend(rejected)
        if held:
            late_rows, late_rejected = _landed(held, topic)
            assert not late_rejected, "late records are all valid"
            tables[f"late.{spec.table}"] = (spec.columns, late_rows)
    tables["bronze.dead_letters"] = (DEAD_LETTER_COLUMNS, dead)
    return tables


def expectations(tables: dict[str, tuple[tuple[str, ...], list[list[str]]]]) -> dict[str, Any]:
    """What the warehouse must make of the fixture (read by the tests)."""
    header, rows = tables["bronze.transactions"]
    ids = [row[header.index("transaction_id")] for row in rows]
    late_header, late_rows = tables["late.transactions"]
    late_ids = sorted(row[late_header.index("transaction_id")] for row in late_rows)
    fb_header, fb_rows = tables["late.feedback"]
    return {
        "bronze_transactions": len(rows),
        "silver_transactions": len(set(ids)),
        "rejects": {"duplicate_transaction_id": len(ids) - len(set(ids))},
        "late_transaction_ids": late_ids,
        "late_fraud_ids": sorted(r[fb_header.index("transaction_id")] for r in fb_rows),
        "silver_transactions_after_late": len(set(ids) | set(late_ids)),
        "bronze_dead_letters": len(tables["bronze.dead_letters"][1]),
        "alerts": len(tables["bronze.fraud_alerts"][1]),
        "feedback": len(fb_rows) + len(tables["bronze.feedback"][1]),
    }


def _check(tables: dict[str, tuple[tuple[str, ...], list[list[str]]]]) -> Iterator[str]:
    for needed in ("late.transactions", "late.scored_transactions", "late.feedback"):
        if needed not in tables:
            yield f"no {needed}: pick other seeds/parameters"
    if not tables["bronze.dead_letters"][1] or "bronze.dlq_events" not in tables:
        yield "no dead letters"
    if "bronze.fraud_alerts" not in tables:
        yield "no alerts"


def write(
    tables: dict[str, tuple[tuple[str, ...], list[list[str]]]], directory: Path = FIXTURES
) -> None:
    """One CSV per table, ``<schema>.<table>.csv`` (header = column names), plus expected.json."""
    problems = list(_check(tables))
    if problems:
        raise SystemExit("fixture unusable: " + "; ".join(problems))
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.csv"):
        old.unlink()
    for table, (header, rows) in tables.items():
        with (directory / f"{table}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    (directory / "expected.json").write_text(
        json.dumps(expectations(tables), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    write(build())
