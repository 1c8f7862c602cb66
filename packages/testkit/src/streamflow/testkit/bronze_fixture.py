"""Load the committed bronze fixture (``data/bronze/*.csv``, package data) into a database.

``load(dsn)`` fills ``ref.*`` and ``bronze.*`` (the first batch); ``load(dsn, batch="late")``
lands the late-arriving batch (old event times, ingested now) into ``bronze.*``. ``ingested_at``
is left to its default (``now()``), as when the ingestor lands a record. The warehouse tests
and ``bench/dbt_incremental.py`` load it from here; ``tests/warehouse/make_fixture.py`` writes it.
Command line: ``python -m streamflow.testkit.bronze_fixture [--late] DSN``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

FIXTURES = Path(__file__).parent / "data" / "bronze"
"""The CSV files, ``expected.json`` and the README saying how they are made."""
REF_ORDER = ["merchants", "stores", "customers", "cards", "products"]


def _files(batch: Literal["initial", "late"]) -> list[tuple[Path, str, str]]:
    if batch == "late":
        return [(p, "bronze", p.name.split(".")[1]) for p in sorted(FIXTURES.glob("late.*.csv"))]
    refs = [(FIXTURES / f"ref.{name}.csv", "ref", name) for name in REF_ORDER]
    bronze = [(p, "bronze", p.name.split(".")[1]) for p in sorted(FIXTURES.glob("bronze.*.csv"))]
    return refs + bronze


def expected() -> dict[str, Any]:
    """What the warehouse must make of the fixture (``expected.json``, made with it)."""
    data: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    return data


def load(dsn: str, batch: Literal["initial", "late"] = "initial") -> dict[str, int]:
    """COPY one batch of the fixture in a single transaction; returns rows per table."""
    counts: dict[str, int] = {}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for path, schema, table in _files(batch):
            with path.open(encoding="utf-8") as fh:
                header = next(csv.reader(fh))
            stmt = sql.SQL("copy {}.{} ({}) from stdin with (format csv, header true)").format(
                sql.Identifier(schema),
                sql.Identifier(table),
                sql.SQL(", ").join(sql.Identifier(c) for c in header),
            )
            with cur.copy(stmt) as copy:
                copy.write(path.read_bytes())
            counts[f"{schema}.{table}"] = cur.rowcount
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dsn")
    parser.add_argument("--late", action="store_true", help="load the late-arriving batch")
    args = parser.parse_args(argv)
    for table, n in load(args.dsn, "late" if args.late else "initial").items():
        print(f"{table}: {n}")


if __name__ == "__main__":
    main()
