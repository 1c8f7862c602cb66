"""The generator's JSON fast encoder and Parquet files vs the ``Transaction`` contract.

Generated events are decoded STRICTLY with the contract (every one of a few thousand, all
scenarios), the Parquet schema is derived from the contract's fields (names, order, types,
decimal precision), the Parquet rows must be the same transactions as the JSON, and the fast
paths must take the schema version and the currency from the contract rather than literals.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from scripts.contracts.shapes import FieldShape, field_shapes
from streamflow.events import Transaction, decode
from streamflow.events.currencies import ISO_4217_CODES
from streamflow.events.transactions import DEFAULT_CURRENCY
from streamflow.generator.files import (
    LABEL_FIELDS,
    LABELLED_SCHEMA,
    TRANSACTION_SCHEMA,
)
from tests.contracts.sample import REPO_ROOT, Generated

SHAPES = field_shapes(Transaction)
SHIPPED = [
    *REPO_ROOT.glob("services/*/src/**/*.py"),
    *REPO_ROOT.glob("packages/scoring/src/**/*.py"),
    *REPO_ROOT.glob("packages/platform/src/**/*.py"),
]
"""Shipped code outside the contracts package: where literal versions and currencies may hide."""
CURRENCY_LITERAL_ALLOWED = {"packages/scoring/src/streamflow/scoring/scoring.py"}
"""Files that name a currency for display (R$ for BRL), not as a transaction's value."""
NOT_A_CURRENCY = {"ALL"}
"""ISO 4217 codes that are also the project's words: ``ALL`` is gold.agg_detection_quality's rule id
for every alert (the quality dashboard), not the Albanian lek."""


def arrow_type_problem(shape: FieldShape, arrow: pa.DataType) -> str | None:
    """Why Arrow type ``arrow`` does not carry contract field ``shape`` (None when it does)."""
    kind = shape.kind
    if kind in {"str", "enum"}:
        fits = pa.types.is_string(arrow) or pa.types.is_large_string(arrow)
    elif kind == "int":
        fits = pa.types.is_integer(arrow)
    elif kind == "float":
        fits = pa.types.is_floating(arrow)
    elif kind == "bool":
        fits = pa.types.is_boolean(arrow)
    elif kind == "datetime":
        fits = pa.types.is_timestamp(arrow) and arrow.tz is not None  # the contract is zone-aware
    elif kind == "decimal":
        fits = (
            pa.types.is_decimal(arrow)
            and arrow.scale == shape.decimal_places
            and (shape.max_digits is None or arrow.precision == shape.max_digits)
        )
    else:
        fits = False
    return None if fits else f"{arrow} does not carry a {kind} ({shape.where})"


def test_every_fast_json_event_decodes_strictly_with_the_contract(generated: Generated) -> None:
    assert generated.batch.label.sum() > 0, "the sample should hold fraud scenarios too"
    for value, key in zip(generated.values, generated.keys, strict=True):
        txn = decode(Transaction, value)  # strict: unknown, missing or mistyped fields raise
        fields = list(json.loads(value))
        assert fields == list(SHAPES), f"fast JSON fields {fields} != contract {list(SHAPES)}"
        assert txn.schema_version == Transaction.SCHEMA_VERSION
        assert txn.currency == DEFAULT_CURRENCY
        assert key == txn.key().model_dump_json().encode()


def test_parquet_schema_is_the_contract_fields_in_order() -> None:
    assert TRANSACTION_SCHEMA.names == list(SHAPES), (
        f"generator Parquet columns {TRANSACTION_SCHEMA.names} != contract fields {list(SHAPES)}"
    )
    problems = [
        reason
        for field in TRANSACTION_SCHEMA
        if (reason := arrow_type_problem(SHAPES[field.name], field.type)) is not None
    ]
    assert not problems, "\n".join(problems)


def test_labelled_schema_is_the_transaction_plus_the_label_columns() -> None:
    label_names = [name for name, _ in LABEL_FIELDS]
    assert LABELLED_SCHEMA.names == [*TRANSACTION_SCHEMA.names, *label_names]
    assert not set(label_names) & set(SHAPES), "a label column shadows a contract field"


def _row_as_contract(row: dict[str, Any]) -> Transaction:
    return Transaction.model_validate(row, strict=False)


def test_parquet_rows_are_the_json_events(generated: Generated) -> None:
    table = pq.read_table(generated.parquet)
    assert table.schema.equals(TRANSACTION_SCHEMA), "the file's schema is the declared schema"
    rows = table.to_pylist()
    assert len(rows) == len(generated.values)
    for i in range(0, len(rows), 7):
        assert _row_as_contract(rows[i]) == decode(Transaction, generated.values[i]), f"row {i}"


def test_labelled_parquet_rows_are_the_json_events_plus_labels(generated: Generated) -> None:
    rows = pq.read_table(generated.labelled).to_pylist()
    for i in range(0, len(rows), 11):
        row = rows[i]
        labels = {name: row.pop(name) for name, _ in LABEL_FIELDS}
        assert _row_as_contract(row) == decode(Transaction, generated.values[i]), f"row {i}"
        assert labels["label"] == generated.batch.label[i]


def test_fast_paths_take_version_and_currency_from_the_contract() -> None:
    version = re.compile(r"""schema_version\\?["']?\s*[:=]\s*\d""")
    currency = re.compile(r"""["']([A-Z]{3})["']""")
    problems = []
    for path in sorted(SHIPPED):
        where = str(path.relative_to(REPO_ROOT))
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if version.search(code):
                problems.append(f"{where}:{line_no}: literal schema_version: {line.strip()}")
            codes = [c for c in currency.findall(code) if c in ISO_4217_CODES - NOT_A_CURRENCY]
            if codes and where not in CURRENCY_LITERAL_ALLOWED:
                problems.append(f"{where}:{line_no}: literal currency {codes}: {line.strip()}")
    assert not problems, "read them from the contract instead:\n" + "\n".join(problems)
