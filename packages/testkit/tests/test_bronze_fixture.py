"""The bronze fixture loader: both batches COPY every CSV row; ``expected()`` is its summary."""

from __future__ import annotations

import csv

import psycopg
import pytest

from streamflow.platform.settings import PostgresSettings
from streamflow.testkit import bronze_fixture
from streamflow.testkit.bronze_fixture import FIXTURES, expected, load


def _rows(pattern: str) -> dict[str, int]:
    """Data rows per ``schema.table`` of the CSV files matching ``pattern``."""
    counts: dict[str, int] = {}
    for path in sorted(FIXTURES.glob(pattern)):
        with path.open(encoding="utf-8", newline="") as fh:
            n = sum(1 for _ in csv.reader(fh)) - 1
        schema, table = path.name.split(".")[:2]
        counts[f"{'bronze' if schema == 'late' else schema}.{table}"] = n
    return counts


def test_the_data_ships_with_the_package() -> None:
    assert (FIXTURES / "README.md").is_file()
    assert {p.name.split(".")[0] for p in FIXTURES.glob("*.csv")} == {"ref", "bronze", "late"}
    summary = expected()
    assert summary["silver_transactions"] <= summary["bronze_transactions"]
    assert set(summary["late_fraud_ids"]) <= set(summary["late_transaction_ids"])


@pytest.mark.integration
def test_both_batches_land_every_row(pg_settings: PostgresSettings) -> None:
    dsn = pg_settings.dsn()
    assert load(dsn) == _rows("ref.*.csv") | _rows("bronze.*.csv")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select count(*) from bronze.transactions").fetchone()
    assert row == (expected()["bronze_transactions"],)


@pytest.mark.integration
def test_the_command_line_loads_the_late_batch(
    pg_settings: PostgresSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    bronze_fixture.main(["--late", pg_settings.dsn()])
    printed = dict(line.split(": ") for line in capsys.readouterr().out.splitlines())
    assert {table: int(n) for table, n in printed.items()} == _rows("late.*.csv")
