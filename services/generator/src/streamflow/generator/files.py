"""File outputs: transactions, labels and the joined (labelled) file, as Parquet or JSONL, and
the blacklist (the ids the blacklist scenario uses, as a ``BlacklistRule`` JSON).

The JSONL lines are exactly the Kafka record values; the Parquet columns hold the same values
(amount as decimal(14,2), event_time as UTC timestamp[ms], coordinates parsed from the same
5-decimal text). Files are written chunk by chunk, so memory stays flat for long runs.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from streamflow.events.rules import BlacklistRule
from streamflow.events.transactions import DEFAULT_CURRENCY, Transaction
from streamflow.generator.batch import Batch
from streamflow.generator.encoding import IdTables, text_columns
from streamflow.generator.reference import Reference, card_id, merchant_id
from streamflow.generator.scenarios import Scenario

TRANSACTION_FIELDS = (
    ("schema_version", pa.int16()),
    ("transaction_id", pa.string()),
    ("event_time", pa.timestamp("ms", tz="UTC")),
    ("customer_id", pa.string()),
    ("card_id", pa.string()),
    ("merchant_id", pa.string()),
    ("store_id", pa.string()),
    ("product_id", pa.string()),
    ("amount", pa.decimal128(14, 2)),
    ("currency", pa.string()),
    ("payment_method", pa.string()),
    ("channel", pa.string()),
    ("latitude", pa.float64()),
    ("longitude", pa.float64()),
    ("device_id", pa.string()),
)
LABEL_FIELDS = (("label", pa.int8()), ("scenario", pa.string()))
TRANSACTION_SCHEMA = pa.schema(list(TRANSACTION_FIELDS))
LABELS_SCHEMA = pa.schema([("transaction_id", pa.string()), *LABEL_FIELDS])
LABELLED_SCHEMA = pa.schema([*TRANSACTION_FIELDS, *LABEL_FIELDS])
SCENARIO_NAMES = [s.label for s in Scenario]


class UnsupportedFormatError(ValueError):
    """The output path's extension is neither .parquet nor .jsonl."""


def file_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise UnsupportedFormatError(f"{path}: use a .parquet or .jsonl file name")


def transaction_columns(batch: Batch, ids: IdTables) -> dict[str, Any]:
    text = text_columns(batch, ids)
    return {
        "schema_version": [Transaction.SCHEMA_VERSION] * len(batch),
        "transaction_id": text.transaction_id,
        "event_time": batch.t,
        "customer_id": ids.customers.take(pa.array(batch.cust)),
        "card_id": ids.cards.take(pa.array(batch.card)),
        "merchant_id": ids.store_merchants.take(pa.array(batch.store)),
        "store_id": ids.stores.take(pa.array(batch.store)),
        "product_id": ids.products.take(pa.array(batch.product)),
        "amount": pa.array(text.amount, pa.string()).cast(pa.decimal128(14, 2)),
        "currency": [DEFAULT_CURRENCY] * len(batch),
        "payment_method": ids.methods.take(pa.array(batch.pm)),
        "channel": ids.channels.take(pa.array(batch.chan)),
        "latitude": [float(x) for x in text.latitude],
        "longitude": [float(x) for x in text.longitude],
        "device_id": text.device,
    }


def label_columns(batch: Batch) -> dict[str, Any]:
    return {
        "label": batch.label.astype("int8"),
        "scenario": [SCENARIO_NAMES[s] for s in batch.scen.tolist()],
    }


class TableFile:
    """One output file (Parquet or JSONL) of a fixed schema, appended chunk by chunk."""

    def __init__(self, path: str, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.format = file_format(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._parquet: pq.ParquetWriter | None = None
        self._jsonl: IO[bytes] | None = None
        if self.format == "parquet":
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._jsonl = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.rows = 0

    def write(self, columns: dict[str, Any], jsonl_lines: list[bytes] | None = None) -> None:
        n = len(columns[self.schema.names[0]])
        self.rows += n
        if self._parquet is not None:
            arrays = [_array(columns[f.name], f.type) for f in self.schema]
            self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
            return
        assert self._jsonl is not None
        if jsonl_lines is None:
            jsonl_lines = [
                json.dumps(
                    {name: _plain(columns[name][i]) for name in self.schema.names},
                    separators=(",", ":"),
                ).encode()
                for i in range(n)
            ]
        self._jsonl.write(b"".join(line + b"\n" for line in jsonl_lines))

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None


def _array(values: Any, type_: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, type=type_)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    return value


class FileOutputs:
    """The optional ``--out``, ``--labels-out`` and ``--labelled-out`` files of one run."""

    def __init__(self, out: str | None, labels: str | None, labelled: str | None) -> None:
        self.out = TableFile(out, TRANSACTION_SCHEMA) if out else None
        self.labels = TableFile(labels, LABELS_SCHEMA) if labels else None
        self.labelled = TableFile(labelled, LABELLED_SCHEMA) if labelled else None

    def write(self, batch: Batch, ids: IdTables, values: list[bytes]) -> None:
        txn = transaction_columns(batch, ids) if (self.out or self.labelled) else None
        if self.out and txn is not None:
            self.out.write(txn, values)
        if self.labels:
            ids_col = [ids.transaction_id(s) for s in batch.seq.tolist()]
            self.labels.write({"transaction_id": ids_col, **label_columns(batch)})
        if self.labelled and txn is not None:
            labels = label_columns(batch)
            lines = [
                v[:-1] + f',"label":{int(lab)},"scenario":"{scen}"}}'.encode()
                for v, lab, scen in zip(values, labels["label"], labels["scenario"], strict=True)
            ]
            self.labelled.write({**txn, **labels}, lines)

    def close(self) -> None:
        for f in (self.out, self.labels, self.labelled):
            if f is not None:
                f.close()


def write_blacklist(path: str, ref: Reference) -> BlacklistRule:
    """The ids the blacklist scenario uses, as a BlacklistRule JSON the scorer can load."""
    rule = BlacklistRule(
        card_ids=frozenset(card_id(ref, int(k)) for k in ref.blacklisted_card_indices()),
        merchant_ids=frozenset(merchant_id(int(m)) for m in ref.blacklisted_merchants),
    )
    data = json.loads(rule.model_dump_json())
    for field in ("customer_ids", "card_ids", "merchant_ids"):
        data[field] = sorted(data[field])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return rule
