from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from streamflow.platform.migrations import (
    Migration,
    MigrationError,
    load_migrations,
    migrate,
    packaged_migrations,
)
from streamflow.platform.settings import PostgresSettings


def test_packaged_migrations_are_ordered_and_unique() -> None:
    versions = [m.version for m in packaged_migrations()]
    assert versions == sorted(set(versions))
    assert versions[0] == 1


def test_bad_file_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "001_schemas.sql").write_text("select 1")
    with pytest.raises(MigrationError, match=r"expected V<NNN>__<name>\.sql"):
        load_migrations(tmp_path)


def test_duplicate_versions_are_refused(tmp_path: Path) -> None:
    (tmp_path / "V001__a.sql").write_text("select 1")
    (tmp_path / "V0001__b.sql").write_text("select 1")
    with pytest.raises(MigrationError, match="used twice"):
        load_migrations(tmp_path)


@pytest.mark.integration
def test_migrate_is_idempotent_and_records_versions(pg_settings: PostgresSettings) -> None:
    # pg_settings is already fully migrated from the template: nothing left to apply.
    assert migrate(pg_settings.dsn()) == []
    extra = Migration(900, "extra_table", "create table app.extra_probe (id int primary key);")
    assert migrate(pg_settings.dsn(), [*packaged_migrations(), extra]) == [extra]
    assert migrate(pg_settings.dsn(), [*packaged_migrations(), extra]) == []
    with psycopg.connect(pg_settings.dsn()) as conn:
        rows = conn.execute("select version from public.streamflow_migrations").fetchall()
        schemas = {
            r[0] for r in conn.execute("select schema_name from information_schema.schemata")
        }
    assert {r[0] for r in rows} >= {1, 2, 3, 4, 900}
    assert {"bronze", "silver", "gold", "ref", "app"} <= schemas


@pytest.mark.integration
def test_edited_migration_is_refused(pg_settings: PostgresSettings) -> None:
    first = packaged_migrations()[0]
    edited = Migration(first.version, first.name, first.sql + "\n-- edited")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(pg_settings.dsn(), [edited])


@pytest.mark.integration
def test_failed_migration_rolls_back(pg_settings: PostgresSettings) -> None:
    broken = Migration(901, "broken", "create table app.half (id int); select * from nowhere;")
    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate(pg_settings.dsn(), [broken])
    with psycopg.connect(pg_settings.dsn()) as conn:
        assert conn.execute("select to_regclass('app.half')").fetchone() == (None,)


@pytest.mark.integration
def test_create_database_then_bootstrap_cli(
    pg_admin_settings: PostgresSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psycopg import sql

    from streamflow.platform.__main__ import main
    from streamflow.platform.migrations import create_database

    target = pg_admin_settings.model_copy(update={"database": "test_create_db_cli"})
    try:
        monkeypatch.setenv("STREAMFLOW_PG_DATABASE", target.database)
        assert main(["migrate", "--create-database", "--timeout", "20"]) == 0
        assert create_database(target) is False
        assert migrate(target.dsn()) == []
    finally:
        with psycopg.connect(pg_admin_settings.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(target.database)
                )
            )


@pytest.mark.integration
def test_large_payloads_are_compressed_with_lz4(pg_settings: PostgresSettings) -> None:
    # V052: a value PostgreSQL compresses on landing uses lz4 (ADR 0122), in every bronze table.
    payload = '{"notes": "' + "a scored record's explanation, " * 400 + '"}'
    with psycopg.connect(pg_settings.dsn()) as conn:
        conn.execute(
            "insert into bronze.dlq_events (kafka_topic, kafka_partition, kafka_offset, stage,"
            " source_topic, error_type, failed_at, schema_version, payload)"
            " values ('dlq', 0, 7, 'scorer', 'transactions.raw', 'contract', now(), 1, %s::jsonb)",
            (payload,),
        )
        kind = conn.execute(
            "select pg_column_compression(payload) from bronze.dlq_events where kafka_offset = 7"
        ).fetchone()
        columns = conn.execute(
            "select count(*) from pg_attribute where attcompression = 'l'"
            " and attrelid::regclass::text like 'bronze.%'"
        ).fetchone()
    assert kind == ("lz4",)
    assert columns == (7,)


@pytest.mark.integration
def test_v054_claims_the_offsets_bronze_transactions_already_holds(
    pg_admin_settings: PostgresSettings,
) -> None:
    """A deployment with landed transactions keeps its re-reads out after the offset ledger."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = pg_admin_settings.dsn()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    dsn = pg_admin_settings.dsn(name)
    try:
        migrate(dsn, [m for m in packaged_migrations() if m.version < 54])
        with psycopg.connect(dsn) as conn:
            for partition, offset in [(0, 0), (0, 1), (0, 2), (0, 4), (0, 5), (1, 7)]:
                conn.execute(
                    "insert into bronze.transactions (kafka_topic, kafka_partition, kafka_offset,"
                    " transaction_id, customer_id, card_id, merchant_id, store_id, amount,"
                    " currency, event_time, schema_version, payload) values"
                    " ('raw', %s, %s, %s, 'C', 'K', 'M', 'S', 1, 'BRL', now(), 1, '{}')",
                    (partition, offset, f"tx-{partition}-{offset}"),
                )
            conn.execute(
                "insert into bronze.dead_letters (kafka_topic, kafka_partition, kafka_offset,"
                " error_type, error_message) values ('raw', 0, 3, 'contract', 'x'),"
                " ('other', 0, 9, 'contract', 'x')"
            )
        migrate(dsn)
        with psycopg.connect(dsn) as conn:
            ranges = conn.execute(
                "select kafka_topic, kafka_partition, lower(offsets), upper(offsets)"
                " from bronze.transactions_offsets order by 1, 2, 3"
            ).fetchall()
            columns = conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'bronze' and table_name = 'transactions'"
                " order by ordinal_position"
            ).fetchall()
            kept = conn.execute("select count(*) from bronze.transactions").fetchone()
        # offsets 0-5 (the dead letter at 3 joins the two runs) and partition 1's one record
        assert ranges == [("raw", 0, 0, 6), ("raw", 1, 7, 8)]
        assert [c for (c,) in columns] == [
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_timestamp",
            "transaction_id",
            "schema_version",
            "payload",
            "ingested_at",
        ]
        assert kept == (6,)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
