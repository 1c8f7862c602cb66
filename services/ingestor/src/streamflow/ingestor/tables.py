"""Which bronze table each topic lands in, and how a validated event becomes that table's row.

Every bronze row is ``(kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, <typed
columns>, schema_version, payload)``; ``ingested_at`` comes from the column default. The typed
columns are the ones indexes and joins need; everything else stays in the raw ``payload``:
``jsonb``, or ``json`` (the text as received) where only dbt reads it, once a row (ADR 0125).
``bronze.transactions`` is a raw log (ADR 0134): ``transaction_id`` its only typed column, and
an offset ledger instead of a key on the coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamflow.events import (
    DeadLetter,
    Feedback,
    FraudAlert,
    ScoredTransaction,
    Topic,
    Transaction,
    WindowMetrics,
)
from streamflow.events.base import Contract
from streamflow.ingestor import fast

KAFKA_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")
TRAILING_COLUMNS = ("schema_version", "payload")
DEAD_LETTER_TABLE = "dead_letters"
DEAD_LETTER_COLUMNS = (
    *KAFKA_COLUMNS,
    "record_key",
    "raw_value",
    "error_type",
    "error_message",
)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A topic's bronze table: its contract and the typed columns extracted from an event."""

    topic: Topic
    table: str
    model: type[Contract]
    typed_columns: tuple[str, ...]
    extract: Callable[[Any], tuple[Any, ...]]
    fast: fast.FastPath | None = None
    """A cheaper validator for the common case (:mod:`streamflow.ingestor.fast`), if any."""
    payload_type: str = "jsonb"
    """The ``payload`` column's type in the DDL (tests/contracts/test_bronze_shape.py)."""
    ledger: str | None = None
    """The offset ledger keeping replays out (``bronze.<ledger>``, ADR 0134), where the table has
    no key on the Kafka coordinates; None: the primary key does."""
    copy_lines: bool = False
    """The parser writes each row's COPY line from the record's text (ADR 0136): only for a table
    whose one typed column is a required identifier (``records._line`` writes it unescaped);
    the count is checked here, the column's kind is the spec author's to get right."""

    def __post_init__(self) -> None:
        if self.copy_lines and len(self.typed_columns) != 1:
            raise ValueError(f"{self.table}: copy_lines needs exactly one typed column")

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the ingestor writes, in row order."""
        return (*KAFKA_COLUMNS, *self.typed_columns, *TRAILING_COLUMNS)

    @property
    def qualified(self) -> str:
        """``bronze.<table>``."""
        return f"bronze.{self.table}"


def _transaction(e: Transaction) -> tuple[Any, ...]:
    return (e.transaction_id,)


def _scored(e: ScoredTransaction) -> tuple[Any, ...]:
    t = e.transaction
    return (
        t.transaction_id,
        t.customer_id,
        t.merchant_id,
        e.fraud_score,
        e.is_alert,
        e.rules_version,
        t.event_time,
        e.scored_at,
    )


def _alert(e: FraudAlert) -> tuple[Any, ...]:
    return (
        e.alert_id,
        e.transaction_id,
        e.customer_id,
        e.merchant_id,
        e.score,
        e.severity.value,
        e.rules_version,
        e.event_time,
        e.detected_at,
    )


def _feedback(e: Feedback) -> tuple[Any, ...]:
    return (
        e.transaction_id,
        e.customer_id,
        e.merchant_id,
        e.label.value,
        e.source.value,
        e.reported_at,
    )


def _metrics(e: WindowMetrics) -> tuple[Any, ...]:
    return (
        e.store_id,
        e.window_start,
        e.window_end,
        e.window_seconds,
        e.count,
        e.amount_sum,
        e.fraud_count,
    )


def _dlq(e: DeadLetter) -> tuple[Any, ...]:
    return (
        e.stage.value,
        e.source_topic,
        e.source_partition,
        e.source_offset,
        e.error_type,
        e.failed_at,
    )


SPECS: dict[Topic, TableSpec] = {
    spec.topic: spec
    for spec in (
        TableSpec(
            Topic.TRANSACTIONS_RAW,
            "transactions",
            Transaction,
            fast.TRANSACTION_COLUMNS,
            _transaction,
            fast.TRANSACTION,
            payload_type="json",  # V053: only dbt reads it, one parse per row (ADR 0125)
            ledger="transactions_offsets",  # V054: a raw log, no per-row key (ADR 0134)
            copy_lines=True,  # the parser writes its COPY lines from each record's text (ADR 0136)
        ),
        TableSpec(
            Topic.TRANSACTIONS_SCORED,
            "scored_transactions",
            ScoredTransaction,
            (
                "transaction_id",
                "customer_id",
                "merchant_id",
                "fraud_score",
                "is_alert",
                "rules_version",
                "event_time",
                "scored_at",
            ),
            _scored,
            fast.SCORED_TRANSACTION,
        ),
        TableSpec(
            Topic.FRAUD_ALERTS,
            "fraud_alerts",
            FraudAlert,
            (
                "alert_id",
                "transaction_id",
                "customer_id",
                "merchant_id",
                "score",
                "severity",
                "rules_version",
                "event_time",
                "detected_at",
            ),
            _alert,
        ),
        TableSpec(
            Topic.FRAUD_FEEDBACK,
            "feedback",
            Feedback,
            ("transaction_id", "customer_id", "merchant_id", "label", "source", "reported_at"),
            _feedback,
        ),
        TableSpec(
            Topic.METRICS_REALTIME,
            "realtime_metrics",
            WindowMetrics,
            (
                "store_id",
                "window_start",
                "window_end",
                "window_seconds",
                "txn_count",
                "amount_sum",
                "fraud_count",
            ),
            _metrics,
        ),
        TableSpec(
            Topic.DLQ,
            "dlq_events",
            DeadLetter,
            (
                "stage",
                "source_topic",
                "source_partition",
                "source_offset",
                "error_type",
                "failed_at",
            ),
            _dlq,
        ),
    )
}
"""Every ingested topic (``fraud.rules`` is configuration, not data: the scorer reads it)."""
