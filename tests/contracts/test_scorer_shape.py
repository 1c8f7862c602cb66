"""The scorer's views of a transaction vs the contract: ``TxnView``, the labelled-file reader, and
the Java deserializer that keys ``transactions.raw`` by customer in the JVM.

``TxnView`` fields must come from contract fields (renames listed here), the labelled reader must
read every one of them under its contract name and turn the generator's labelled file into the
very views the job makes from the decoded JSON, and the JSON field names the Java source reads
must be the contract's key field.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streamflow.events import Channel, Transaction, TransactionKey, decode
from streamflow.generator.files import LABEL_FIELDS, LABELLED_SCHEMA
from streamflow.lab.labelled_file import OPTIONAL, REQUIRED, Rejects, read_labelled
from streamflow.scoring.view import TxnView, make_view
from tests.contracts.sample import REPO_ROOT, Generated

VIEW_SOURCES = {"epoch": "event_time", "lat": "latitude", "lon": "longitude", "device": "device_id"}
"""TxnView fields named otherwise than the contract field they are computed from."""
JAVA_DESERIALIZER = (
    REPO_ROOT / "services/fraud-scorer/java/src/io/streamflow/flink/CustomerKeyedRecords.java"
)
LABEL_COLUMNS = {name for name, _ in LABEL_FIELDS}
VIEW_FIELDS = [f.name for f in fields(TxnView)]


def _source(view_field: str) -> str:
    return VIEW_SOURCES.get(view_field, view_field)


def test_every_view_field_comes_from_a_contract_field() -> None:
    unknown = [f for f in VIEW_FIELDS if _source(f) not in Transaction.model_fields]
    assert not unknown, f"TxnView fields {unknown} map to no Transaction field (see VIEW_SOURCES)"


def test_the_labelled_reader_reads_contract_and_label_columns_only() -> None:
    columns = set(REQUIRED) | set(OPTIONAL)
    stray = sorted(columns - set(Transaction.model_fields) - LABEL_COLUMNS)
    assert not stray, f"labelled reader columns {stray} are neither contract nor label columns"
    assert columns >= LABEL_COLUMNS, "the reader must read the generator's label columns"
    assert columns <= set(LABELLED_SCHEMA.names), "the generator's labelled file lacks a column"


def test_the_labelled_reader_reads_every_field_the_view_needs() -> None:
    columns = set(REQUIRED) | set(OPTIONAL)
    unread = sorted({_source(f) for f in VIEW_FIELDS} - columns)
    assert not unread, f"TxnView needs {unread}, the labelled reader never reads them"


def _same(a: TxnView, b: TxnView) -> bool:
    """Field by field, NaN (an unknown location) equal to NaN."""
    pairs = [(getattr(a, name), getattr(b, name)) for name in VIEW_FIELDS]
    return all(
        x == y
        or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
        for x, y in pairs
    )


def test_labelled_file_views_are_the_job_views_of_the_same_events(generated: Generated) -> None:
    rejects = Rejects()
    rows = list(read_labelled(generated.labelled, arrival_order=True, rejects=rejects))
    assert rejects.total == 0, rejects.report()
    assert len(rows) == len(generated.values)
    for i, row in enumerate(rows):
        job_view = make_view(decode(Transaction, generated.values[i]))
        assert _same(row.view, job_view), f"row {i}: file {row.view} != job {job_view}"
        assert row.label == generated.batch.label[i]


def test_the_labelled_readers_defaults_are_the_contracts(tmp_path: Path) -> None:
    path = tmp_path / "minimal.parquet"
    table = pa.table(
        {
            "transaction_id": ["t1"],
            "event_time": ["2026-11-01T14:30:00Z"],
            "customer_id": ["C1"],
            "merchant_id": ["M1"],
            "amount": ["10.00"],
            "label": [0],
        }
    )
    pq.write_table(table, path)
    (row,) = read_labelled(path)
    assert row.view.currency == Transaction.model_fields["currency"].default
    assert row.view.channel in {c.value for c in Channel}


def _java_json_names(source: str) -> set[str]:
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.DOTALL)
    return set(re.findall(r'"([a-z][a-z0-9_]*)"', code))


def test_the_java_deserializer_reads_the_contracts_customer_key() -> None:
    names = _java_json_names(JAVA_DESERIALIZER.read_text(encoding="utf-8"))
    assert names, f"{JAVA_DESERIALIZER.name}: no JSON field names found"
    stray = sorted(names - set(Transaction.model_fields))
    assert not stray, f"{JAVA_DESERIALIZER.name} reads {stray}: not Transaction fields"
    assert names == set(TransactionKey.model_fields), (
        f"{JAVA_DESERIALIZER.name} keys by {sorted(names)}, the contract's key is "
        f"{sorted(TransactionKey.model_fields)}"
    )


def test_the_java_merchant_traffic_reads_contract_fields() -> None:
    """The merchant hop keys by the contract's merchant id and days by its event time."""
    java = JAVA_DESERIALIZER.parent
    names = {
        source.name: _java_json_names(source.read_text(encoding="utf-8"))
        for source in (java / "MerchantFields.java", java / "MerchantTraffic.java")
    }
    assert names == {
        "MerchantFields.java": {"merchant_id", "event_time"},
        "MerchantTraffic.java": set(),
    }
    assert set().union(*names.values()) <= set(Transaction.model_fields)


def test_the_java_name_reader_ignores_comments() -> None:
    source = '/* "card_id" */ // "amount"\nString F = "customer_id"; String E = "";'
    assert _java_json_names(source) == {"customer_id"}
