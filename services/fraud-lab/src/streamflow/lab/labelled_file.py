"""Stream a labelled CSV or Parquet file as transaction views, in event-time order, in batches.

Required columns: transaction_id, event_time, customer_id, merchant_id, amount, label (0/1).
Optional: every other transaction field and ``scenario``. A row that breaks the transaction
contract (missing id, unparsable or zone-less time, amount not > 0, label not 0/1) is skipped and
counted in :class:`Rejects` with its reason, like the stream's dead letters; it never stops a run.
A file already in event-time order (the generator writes one) is streamed batch by batch; otherwise
it is sorted out of core: sorted runs of :data:`RUN_ROWS` rows go to temporary Parquet files which
are then merged, so memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import heapq
import itertools
import math
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from streamflow.events.transactions import DEFAULT_CURRENCY, Channel
from streamflow.scoring.view import TxnView, device_hash

REQUIRED = ("transaction_id", "event_time", "customer_id", "merchant_id", "amount", "label")
OPTIONAL = (
    "card_id",
    "currency",
    "channel",
    "latitude",
    "longitude",
    "device_id",
    "scenario",
)
BATCH_ROWS = 65_536
RUN_ROWS = 1_000_000


class LabelledFileError(ValueError):
    """The file lacks a required column or holds an unusable value."""


@dataclass
class Rejects:
    """Rows left out of a replay, counted by reason, with a few examples."""

    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, str]] = field(default_factory=list)

    def add(self, transaction_id: str, reason: str) -> None:
        """Count one rejected row."""
        self.reasons[reason] += 1
        if len(self.examples) < 20:
            self.examples.append({"transaction_id": transaction_id, "reason": reason})

    @property
    def total(self) -> int:
        """Rows rejected."""
        return sum(self.reasons.values())

    def report(self) -> dict[str, object]:
        """``{"rows", "by_reason", "examples"}`` for a JSON report."""
        return {"rows": self.total, "by_reason": dict(self.reasons), "examples": self.examples}


@dataclass(frozen=True, slots=True)
class LabelledRow:
    """One transaction of the file with its label and scenario."""

    view: TxnView
    label: int
    scenario: str


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    if path.suffix.lower() in {".parquet", ".pq"}:
        pf = pq.ParquetFile(path)
        names = set(pf.schema_arrow.names)
        _check_columns(names, path)
        cols = [c for c in REQUIRED + OPTIONAL if c in names]
        yield from pf.iter_batches(batch_size=BATCH_ROWS, columns=cols)
        return
    header = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16))
    names = set(header.schema.names)
    header.close()
    _check_columns(names, path)
    cols = [c for c in REQUIRED + OPTIONAL if c in names]
    text_cols = [
        "transaction_id",
        "customer_id",
        "merchant_id",
        "card_id",
        "amount",
        "device_id",
        "scenario",
    ]
    types: dict[str, pa.DataType] = {c: pa.string() for c in text_cols if c in names}
    types["event_time"] = pa.string()
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=16 << 20),
        convert_options=pacsv.ConvertOptions(column_types=types, include_columns=cols),
    )
    yield from reader


def _check_columns(names: set[str], path: Path) -> None:
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise LabelledFileError(f"{path}: missing required columns {missing}")


def _epochs(column: pa.Array) -> list[float]:
    if pa.types.is_timestamp(column.type):
        micros = pc.cast(column, pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
        return [us / 1_000_000 for us in micros.to_pylist()]
    out = []
    for text in column.to_pylist():
        try:
            moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            out.append(math.nan)
            continue
        # A time without a zone is ambiguous: -inf marks it for its own reject reason.
        out.append(moment.timestamp() if moment.tzinfo is not None else -math.inf)
    return out


def _number(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    if value is None or value == "":
        return math.nan
    try:
        return float(str(value))
    except ValueError:
        return math.nan


def _floats(batch: pa.RecordBatch, name: str) -> list[float]:
    if name not in batch.schema.names:
        return [math.nan] * batch.num_rows
    column = batch.column(name)
    if pa.types.is_decimal(column.type) or pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
        return [_number(v) for v in column.to_pylist()]
    return [math.nan if v is None else float(v) for v in column.to_pylist()]


def _strings(batch: pa.RecordBatch, name: str, default: str) -> list[str]:
    if name not in batch.schema.names:
        return [default] * batch.num_rows
    return [default if v is None else str(v) for v in batch.column(name).to_pylist()]


def _reject_reason(ids: tuple[str, str, str], epoch: float, amount: float, label: int) -> str:
    if not all(ids):
        return "missing transaction_id, customer_id or merchant_id"
    if math.isnan(epoch):
        return "unparsable event_time"
    if math.isinf(epoch):
        return "event_time has no timezone"
    if not amount > 0.0 or math.isinf(amount):
        return "amount must be a number > 0"
    if label not in (0, 1):
        return "label must be 0 or 1"
    return ""


def rows_of(batch: pa.RecordBatch, rejects: Rejects | None = None) -> Iterator[LabelledRow]:
    """The valid rows of one batch, in the batch's order; the others go to ``rejects``."""
    epochs = _epochs(batch.column("event_time"))
    amounts = _floats(batch, "amount")
    lats, lons = _floats(batch, "latitude"), _floats(batch, "longitude")
    raw_labels = [_number(v) for v in batch.column("label").to_pylist()]
    labels = [int(v) if v in (0.0, 1.0) else -1 for v in raw_labels]
    txid = _strings(batch, "transaction_id", "")
    cust = _strings(batch, "customer_id", "")
    merch = _strings(batch, "merchant_id", "")
    cards = batch.column("card_id").to_pylist() if "card_id" in batch.schema.names else cust
    currency = _strings(batch, "currency", DEFAULT_CURRENCY)
    channel = _strings(batch, "channel", Channel.POS.value)
    scenario = _strings(batch, "scenario", "")
    devices = [device_hash(d) for d in _strings(batch, "device_id", "")]
    for i in range(batch.num_rows):
        reason = _reject_reason((txid[i], cust[i], merch[i]), epochs[i], amounts[i], labels[i])
        if reason:
            if rejects is not None:
                rejects.add(txid[i], reason)
            continue
        view = TxnView(
            txid[i],
            epochs[i],
            cust[i],
            str(cards[i]) if cards[i] is not None else cust[i],
            merch[i],
            amounts[i],
            currency[i],
            channel[i],
            lats[i],
            lons[i],
            devices[i],
        )
        yield LabelledRow(view, labels[i], scenario[i] or ("fraud" if labels[i] else "legit"))


def _is_sorted(path: Path) -> bool:
    last = -math.inf
    for batch in _batches(path):
        epochs = _epochs(batch.column("event_time"))
        if epochs and (epochs[0] < last or any(b < a for a, b in itertools.pairwise(epochs))):
            return False
        if epochs:
            last = epochs[-1]
    return True


def _sorted_runs(path: Path, workdir: Path) -> list[Path]:
    runs: list[Path] = []
    pending: list[pa.RecordBatch] = []
    size = 0

    def flush() -> None:
        table = pa.Table.from_batches(pending)
        # Unusable times (NaN) sort first; rows_of rejects them.
        times = [-math.inf if math.isnan(e) else e for e in _epochs(table.column("event_time"))]
        order = sorted(range(table.num_rows), key=times.__getitem__)
        run = workdir / f"run-{len(runs):05d}.parquet"
        pq.write_table(table.take(pa.array(order)), run)
        runs.append(run)

    for batch in _batches(path):
        pending.append(batch)
        size += batch.num_rows
        if size >= RUN_ROWS:
            flush()
            pending, size = [], 0
    if pending:
        flush()
    return runs


def _run_rows(
    run: Path, run_index: int, rejects: Rejects | None
) -> Iterator[tuple[float, int, int, LabelledRow]]:
    seq = 0
    for batch in pq.ParquetFile(run).iter_batches(batch_size=BATCH_ROWS):
        for row in rows_of(batch, rejects):
            yield row.view.epoch, run_index, seq, row
            seq += 1


def read_labelled(
    path: Path, arrival_order: bool = False, rejects: Rejects | None = None
) -> Iterator[LabelledRow]:
    """Every row of ``path`` in event-time order (file order among equal times).

    ``arrival_order=True`` keeps the file's order instead: the order a Kafka consumer sees when
    the file was produced as is (what the Flink job scores), late events included.
    """
    if arrival_order or _is_sorted(path):
        for batch in _batches(path):
            yield from rows_of(batch, rejects)
        return
    with tempfile.TemporaryDirectory(prefix="backtest-sort-") as tmp:
        runs = _sorted_runs(path, Path(tmp))
        streams = [_run_rows(run, index, rejects) for index, run in enumerate(runs)]
        for item in heapq.merge(*streams, key=lambda entry: entry[:3]):
            yield item[3]
