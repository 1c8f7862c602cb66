from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

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
