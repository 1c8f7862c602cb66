"""Write the committed bronze fixture (CSV files in ``fixtures/``) from the event contracts.

Deterministic (seeded): every payload is a real contract object (``streamflow.events``) built from
the examples in ``streamflow.events.examples``, dumped exactly as the ingestor would land it.
A handful of rows are deliberately broken or duplicated so the warehouse's validation, rejects
and deduplication paths have something to do. Run ``scripts/uv.sh run python -m
tests.warehouse.make_fixture`` to regenerate (the output is byte-for-byte reproducible).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from streamflow.events import examples
from streamflow.events.alerts import FraudAlert, Severity, TriggeredRule, alert_id_for
from streamflow.events.dead_letters import DeadLetter, Stage
from streamflow.events.feedback import Feedback, FeedbackSource, Label
from streamflow.events.scored import RuleContribution, ScoredTransaction
from streamflow.events.transactions import Channel, PaymentMethod, Transaction

FIXTURES = Path(__file__).with_name("fixtures")
SEED = 7
T0 = datetime(2026, 11, 1, tzinfo=UTC)
RULES = ["FR-001", "FR-002", "FR-003", "FR-004", "FR-005"]
CITIES = [
    ("Sao Paulo", "SP", -23.55, -46.63),
    ("Rio de Janeiro", "RJ", -22.91, -43.17),
    ("Curitiba", "PR", -25.43, -49.27),
    ("Recife", "PE", -8.05, -34.88),
]


@dataclass
class Tables:
    """Rows per target table (column order = the CSV header)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)


def _js(model: Any) -> str:
    return str(model.model_dump_json())


def _coords(topic: str, offsets: dict[str, int]) -> dict[str, Any]:
    offsets[topic] = offsets.get(topic, -1) + 1
    return {"kafka_topic": topic, "kafka_partition": 0, "kafka_offset": offsets[topic]}


def _reference(out: Tables) -> None:
    for m in range(1, 5):
        mid = f"M{m:04d}"
        out.add(
            "ref.merchants",
            {
                "merchant_id": mid,
                "name": f"Merchant {m}",
                "category": ["grocery", "electronics", "fuel", "travel"][m - 1],
                "risk_tier": "high" if m == 4 else "normal",
            },
        )
        for s in (1, 2):
            city, state, lat, lon = CITIES[(m + s) % len(CITIES)]
            out.add(
                "ref.stores",
                {
                    "store_id": f"S{m:04d}-{s:02d}",
                    "merchant_id": mid,
                    "city": city,
                    "state": state,
                    "latitude": lat,
                    "longitude": lon,
                    "channel": "pos" if s == 1 else "online",
                },
            )
    for c in range(1, 13):
        city, state, lat, lon = CITIES[c % len(CITIES)]
        out.add(
            "ref.customers",
            {
                "customer_id": f"C{c:04d}",
                "name": f"Customer {c}",
                "home_city": city,
                "home_state": state,
                "home_latitude": lat,
                "home_longitude": lon,
                "spending_profile": ["low", "medium", "high"][c % 3],
            },
        )
        out.add(
            "ref.cards",
            {"card_id": f"K{c:04d}-1", "customer_id": f"C{c:04d}", "card_type": "credit"},
        )
    for p in range(1, 6):
        out.add(
            "ref.products",
            {
                "product_id": f"P{p:04d}",
                "name": f"Product {p}",
                "category": "general",
                "price_min": "1.00",
                "price_max": "5000.00",
            },
        )


def _transaction(rng: random.Random, n: int, event_time: datetime) -> Transaction:
    c = rng.randint(1, 12)
    m = rng.randint(1, 4)
    s = rng.randint(1, 2)
    base = examples.transaction(f"tx-{n:06d}", f"C{c:04d}")
    return base.model_copy(
        update={
            "event_time": event_time,
            "card_id": f"K{c:04d}-1",
            "merchant_id": f"M{m:04d}",
            "store_id": f"S{m:04d}-{s:02d}",
            "product_id": f"P{rng.randint(1, 5):04d}",
            "amount": Decimal(rng.randint(500, 90_000)) / 100,
            "payment_method": rng.choice(list(PaymentMethod)),
            "channel": Channel.POS if s == 1 else Channel.ONLINE,
        }
    )


def _tx_row(tx: Transaction, coords: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    return {
        **coords,
        "kafka_timestamp": tx.event_time.isoformat(),
        "transaction_id": payload["transaction_id"],
        "customer_id": tx.customer_id,
        "card_id": tx.card_id,
        "merchant_id": tx.merchant_id,
        "store_id": tx.store_id,
        "amount": payload["amount"],
        "currency": payload["currency"],
        "event_time": payload["event_time"],
        "schema_version": 1,
        "payload": json.dumps(payload, sort_keys=True),
    }


def _score(
    rng: random.Random,
    tx: Transaction,
    fraud: bool,
    out: Tables,
    prefix: str,
    offsets: dict[str, int],
) -> None:
    score = round(
        rng.uniform(0.62, 0.97) if fraud and rng.random() < 0.8 else rng.uniform(0.0, 0.7), 4
    )
    is_alert = score >= 0.6
    fired = rng.sample(RULES, k=rng.randint(1, 3)) if is_alert else []
    contributions = [
        RuleContribution(
            rule_id=r,
            triggered=True,
            score=1.0,
            weight=0.2,
            contribution=0.2,
            explanation=f"{r} fired",
        )
        for r in fired
    ]
    scored_at = tx.event_time + timedelta(milliseconds=rng.randint(20, 400))
    st = ScoredTransaction(
        transaction=tx,
        fraud_score=score,
        is_alert=is_alert,
        rule_contributions=contributions,
        ml_score=None,
        reasons=[f"{r} fired" for r in fired],
        rules_version=1,
        model_version=None,
        scored_at=scored_at,
    )
    out.add(
        f"{prefix}scored_transactions",
        {
            **_coords("transactions.scored", offsets),
            "kafka_timestamp": scored_at.isoformat(),
            "transaction_id": tx.transaction_id,
            "customer_id": tx.customer_id,
            "merchant_id": tx.merchant_id,
            "fraud_score": score,
            "is_alert": is_alert,
            "rules_version": 1,
            "event_time": tx.event_time.isoformat(),
            "scored_at": scored_at.isoformat(),
            "schema_version": 1,
            "payload": _js(st),
        },
    )
    if is_alert:
        alert = FraudAlert(
            alert_id=alert_id_for(tx.transaction_id, 1),
            transaction_id=tx.transaction_id,
            customer_id=tx.customer_id,
            merchant_id=tx.merchant_id,
            amount=tx.amount,
            score=score,
            severity=Severity.from_score(score),
            triggered_rules=[
                TriggeredRule(rule_id=r, score=1.0, contribution=0.2, explanation=f"{r} fired")
                for r in fired
            ],
            rules_version=1,
            model_version=None,
            event_time=tx.event_time,
            detected_at=scored_at,
        )
        out.add(
            f"{prefix}fraud_alerts",
            {
                **_coords("fraud.alerts", offsets),
                "kafka_timestamp": scored_at.isoformat(),
                "alert_id": alert.alert_id,
                "transaction_id": tx.transaction_id,
                "customer_id": tx.customer_id,
                "merchant_id": tx.merchant_id,
                "score": score,
                "severity": alert.severity.value,
                "rules_version": 1,
                "event_time": tx.event_time.isoformat(),
                "detected_at": scored_at.isoformat(),
                "schema_version": 1,
                "payload": _js(alert),
            },
        )
    if fraud or (is_alert and rng.random() < 0.5):
        label = Label.FRAUD if fraud else Label.LEGIT
        fb = Feedback(
            transaction_id=tx.transaction_id,
            customer_id=tx.customer_id,
            merchant_id=tx.merchant_id,
            label=label,
            source=FeedbackSource.CHARGEBACK if fraud else FeedbackSource.ANALYST,
            reported_at=tx.event_time + timedelta(days=2),
            note=None,
        )
        out.add(
            f"{prefix}feedback",
            {
                **_coords("fraud.feedback", offsets),
                "kafka_timestamp": fb.reported_at.isoformat(),
                "transaction_id": tx.transaction_id,
                "customer_id": tx.customer_id,
                "merchant_id": tx.merchant_id,
                "label": label.value,
                "source": fb.source.value,
                "reported_at": fb.reported_at.isoformat(),
                "schema_version": 1,
                "payload": _js(fb),
            },
        )


def build() -> Tables:
    """Every fixture table, deterministically."""
    rng = random.Random(SEED)
    out = Tables()
    offsets: dict[str, int] = {}
    _reference(out)
    for n in range(1, 241):
        tx = _transaction(rng, n, T0 + timedelta(minutes=12 * n, seconds=rng.randint(0, 59)))
        payload = json.loads(_js(tx))
        coords = _coords("transactions.raw", offsets)
        broken = {
            17: {"amount": "-5.00"},
            58: {"currency": "brl"},
            99: {"event_time": "2099-01-01T00:00:00Z"},
        }.get(n)
        if broken:
            payload.update(broken)
            out.add("bronze.transactions", _tx_row(tx, coords, payload))
            continue
        out.add("bronze.transactions", _tx_row(tx, coords, payload))
        if n in (30, 31):  # producer retry: the same event lands twice at a later offset
            out.add(
                "bronze.transactions", _tx_row(tx, _coords("transactions.raw", offsets), payload)
            )
        _score(rng, tx, rng.random() < 0.08, out, "bronze.", offsets)
    # late arrivals, loaded as a second batch: events from two days before, ingested now
    for n in range(241, 244):
        tx = _transaction(rng, n, T0 - timedelta(days=2, minutes=-7 * n))
        out.add(
            "late.transactions",
            _tx_row(tx, _coords("transactions.raw", offsets), json.loads(_js(tx))),
        )
        _score(rng, tx, n == 242, out, "late.", offsets)
    dl = examples.dead_letter()
    out.add(
        "bronze.dlq_events",
        {
            **_coords("streamflow.dlq", offsets),
            "kafka_timestamp": dl.failed_at.isoformat(),
            "stage": dl.stage.value,
            "source_topic": dl.source_topic,
            "source_partition": dl.source_partition,
            "source_offset": dl.source_offset,
            "error_type": dl.error_type,
            "failed_at": dl.failed_at.isoformat(),
            "schema_version": 1,
            "payload": _js(dl),
        },
    )
    other = DeadLetter.from_raw(
        stage=Stage.GENERATOR,
        source_topic="transactions.raw",
        source_partition=None,
        source_offset=None,
        raw=b"\xff\xfe",
        key=None,
        error_type="encoding",
        error_message="not utf-8",
        failed_at=T0,
    )
    out.add(
        "bronze.dlq_events",
        {
            **_coords("streamflow.dlq", offsets),
            "kafka_timestamp": T0.isoformat(),
            "stage": other.stage.value,
            "source_topic": other.source_topic,
            "source_partition": None,
            "source_offset": None,
            "error_type": other.error_type,
            "failed_at": T0.isoformat(),
            "schema_version": 1,
            "payload": _js(other),
        },
    )
    out.add(
        "bronze.dead_letters",
        {
            "kafka_topic": "transactions.raw",
            "kafka_partition": 0,
            "kafka_offset": 9999,
            "kafka_timestamp": T0.isoformat(),
            "record_key": None,
            "raw_value": "\\x" + b"{not json".hex(),
            "error_type": "json_invalid",
            "error_message": "Invalid JSON: expected value at line 1 column 2",
            "failed_at": T0.isoformat(),
            "reprocessed_at": None,
        },
    )
    return out


def write(tables: Tables, directory: Path = FIXTURES) -> None:
    """One CSV per table, ``<schema>.<table>.csv``, header = column names."""
    directory.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.rows.items():
        with (directory / f"{table}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    write(build())
