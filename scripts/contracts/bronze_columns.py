"""Which contract field each bronze column stores, and what the ingestor's own columns mean.

A typed column of a bronze table holds the contract field of the same name, looked up on the
table's contract and then on its nested contracts (``scored_transactions.event_time`` is
``ScoredTransaction.transaction.event_time``); :data:`RENAMED` lists the columns named otherwise.
tests/contracts/test_bronze_shape.py proves each mapping against the ingestor's ``extract``.
"""

from __future__ import annotations

from scripts.contracts.shapes import field_shape, field_shapes
from streamflow.ingestor.tables import TableSpec

RENAMED: dict[tuple[str, str], str] = {("realtime_metrics", "txn_count"): "count"}
"""``(table, column) -> contract field`` where the column is not named after its field."""

INGESTOR_COLUMNS: dict[str, str] = {
    "kafka_topic": "Kafka topic the record was read from.",
    "kafka_partition": "Its partition.",
    "kafka_offset": "Its offset; (topic, partition, offset) is the primary key (idempotent).",
    "kafka_timestamp": "Broker append time of the record (LogAppendTime), if any.",
    "schema_version": "Contract version the producer wrote (current or N-1).",
    "payload": "The whole record value as received.",
    "ingested_at": "When the ingestor landed the row.",
}
"""Columns every topic table has, written by the ingestor rather than taken from the event."""

DEAD_LETTER_COLUMNS: dict[str, str] = {
    "record_key": "Raw Kafka key bytes.",
    "raw_value": "Raw Kafka value bytes, exactly as they arrived.",
    "error_type": "Machine-readable reason the ingestor could not land the record.",
    "error_message": "Human-readable reason.",
    "failed_at": "When the ingestor rejected the record.",
    "reprocessed_at": "When a replay landed the record after all, if it did.",
}
"""The columns of ``bronze.dead_letters`` (records the ingestor itself could not land)."""


def contract_field(spec: TableSpec, column: str) -> str:
    """The (dotted) field of ``spec.model`` that typed column ``column`` stores."""
    name = RENAMED.get((spec.table, column), column)
    shapes = field_shapes(spec.model)
    if name in shapes and shapes[name].kind != "model":
        return name
    for shape in shapes.values():
        if shape.nested is not None and name in shape.nested.model_fields:
            return f"{shape.name}.{name}"
    raise KeyError(
        f"bronze.{spec.table}.{column}: no field {name!r} in {spec.model.__name__} or its nested "
        "contracts (rename it, or map it in scripts/contracts/bronze_columns.RENAMED)"
    )


def column_description(spec: TableSpec | None, column: str) -> str | None:
    """What a bronze column holds: its contract field's description, or the ingestor's own."""
    if spec is None:
        return DEAD_LETTER_COLUMNS.get(column) or INGESTOR_COLUMNS.get(column)
    if column in spec.typed_columns:
        return field_shape(spec.model, contract_field(spec, column)).description
    if column == "kafka_offset" and spec.ledger is not None:
        return f"Its offset; bronze.{spec.ledger} holds the landed ranges (idempotent)."
    return INGESTOR_COLUMNS.get(column)
