"""The backtest's per-transaction scores file: CSV or Parquet, chosen by the file's extension."""

from __future__ import annotations

import csv
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})


class ScoresWriter:
    """``transaction_id,score`` rows; Parquet for a ``.parquet`` name, CSV otherwise."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._parquet = path.suffix.lower() in PARQUET_SUFFIXES
        self._ids: list[str] = []
        self._scores: list[float] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = None if self._parquet else path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file) if self._file is not None else None
        if self._csv is not None:
            self._csv.writerow(("transaction_id", "score"))

    def add(self, transaction_id: str, score: float) -> None:
        """One scored transaction."""
        if self._csv is not None:
            self._csv.writerow((transaction_id, f"{score:.6f}"))
        else:
            self._ids.append(transaction_id)
            self._scores.append(score)

    def close(self) -> None:
        """Finish the file (Parquet is written here, in one go)."""
        if self._file is not None:
            self._file.close()
            return
        table = pa.table(
            {
                "transaction_id": pa.array(self._ids, pa.string()),
                "score": pa.array(self._scores, pa.float64()),
            }
        )
        pq.write_table(table, self.path)

    def __enter__(self) -> ScoresWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
