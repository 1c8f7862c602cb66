"""Each service's PostgreSQL role (migration V040, ADR 0105) does its own job and is refused
another's: real PostgreSQL, a fresh migrated database per test, logging in as the role itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import errors

from streamflow.platform.settings import PostgresSettings

pytestmark = pytest.mark.integration

INGESTOR, API, GENERATOR, WAREHOUSE = (
    "streamflow_ingestor",
    "streamflow_api",
    "streamflow_generator",
    "streamflow_warehouse",
)
ROLES = (INGESTOR, API, GENERATOR, WAREHOUSE)

# One write into each schema's territory, and which role is the one allowed to do it.
WRITES: dict[str, tuple[str, str]] = {
    "bronze": (INGESTOR, "insert into bronze.transactions default values"),
    "bronze dead letters": (INGESTOR, "insert into bronze.dead_letters default values"),
    "app": (API, "insert into app.api_keys default values"),
    "app alerts": (API, "update app.alerts set status = status"),
    "ref": (GENERATOR, "insert into ref.merchants default values"),
    "silver": (WAREHOUSE, "create table silver.intruder (x int)"),
    "gold": (WAREHOUSE, "create table gold.intruder (x int)"),
    "ops": (WAREHOUSE, "insert into ops.warehouse_alerts default values"),
}
ALERT_ID = uuid.UUID("00000000-0000-4000-8000-000000000017")


@contextmanager
def connect_as(pg: PostgresSettings, role: str) -> Iterator[psycopg.Connection]:
    """A connection logged in as ``role`` (local stack: the same password as the owner)."""
    with psycopg.connect(pg.as_role(role).dsn()) as conn:
        yield conn


def _attempt(pg: PostgresSettings, role: str, statement: str) -> type[Exception] | None:
    """Run one statement as ``role`` and roll it back; the error class, or None if allowed."""
    with connect_as(pg, role) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return type(exc)
        finally:
            conn.rollback()
    return None


@pytest.mark.parametrize("role", ROLES)
def test_a_role_cannot_write_another_services_schema(
    pg_settings: PostgresSettings, role: str
) -> None:
    refused = {
        target: _attempt(pg_settings, role, statement)
        for target, (owner, statement) in WRITES.items()
        if owner != role
    }
    assert refused, role
    allowed = {
        target for target, error in refused.items() if error is not errors.InsufficientPrivilege
    }
    assert not allowed, f"{role} may write {sorted(allowed)}"


@pytest.mark.parametrize(("target", "owner"), [(t, o) for t, (o, _) in WRITES.items()])
def test_the_owning_role_passes_the_privilege_check(
    pg_settings: PostgresSettings, target: str, owner: str
) -> None:
    """Its own write is not refused for privileges (a NOT NULL on an empty row is fine)."""
    statement = WRITES[target][1]
    assert _attempt(pg_settings, owner, statement) is not errors.InsufficientPrivilege


def test_no_service_role_owns_another_services_schema(pg_settings: PostgresSettings) -> None:
    with psycopg.connect(pg_settings.dsn()) as conn:
        owners: dict[str, str] = dict(
            conn.execute(
                "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
                "where nspname in ('bronze', 'silver', 'gold', 'ref', 'app', 'ops')"
            ).fetchall()
        )
        tables = conn.execute(
            "select distinct n.nspname, pg_get_userbyid(c.relowner) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname in ('bronze', 'silver', 'gold', 'ref', 'app', 'ops') "
            "and c.relkind in ('r', 'p', 'v', 'm')"
        ).fetchall()
    owner = pg_settings.user
    assert owners == {
        "bronze": owner,
        "ref": owner,
        "app": owner,
        "silver": WAREHOUSE,
        "gold": WAREHOUSE,
        "ops": WAREHOUSE,
    }
    # A table is its schema owner's or the migrator's (a later migration's), never another role's.
    for schema, table_owner in tables:
        assert table_owner in {owners[schema], owner}, (schema, table_owner)


def test_service_roles_are_not_privileged(pg_settings: PostgresSettings) -> None:
    with psycopg.connect(pg_settings.dsn()) as conn:
        rows = conn.execute(
            "select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
            "from pg_roles where rolname = any(%s)",
            (list(ROLES),),
        ).fetchall()
    assert {r[0] for r in rows} == set(ROLES)
    assert all(not any(r[1:]) for r in rows), rows


def _land_alert(conn: psycopg.Connection, offset: int) -> None:
    conn.execute(
        "insert into bronze.fraud_alerts (kafka_topic, kafka_partition, kafka_offset, alert_id, "
        "transaction_id, customer_id, merchant_id, score, severity, rules_version, event_time, "
        "detected_at, schema_version, payload) values ('fraud.alerts', 0, %s, %s, 't1', 'c1', "
        "'m1', 0.9, 'high', 1, now(), now(), 1, %s)",
        (offset, ALERT_ID, '{"amount": "12.50", "triggered_rules": [{"rule_id": "R1"}]}'),
    )


def test_ingestor_lands_bronze_and_dead_letters_and_projects_alerts(
    pg_settings: PostgresSettings,
) -> None:
    with connect_as(pg_settings, INGESTOR) as conn:
        _land_alert(conn, 1)
        conn.execute(
            "insert into bronze.dead_letters (kafka_topic, kafka_partition, kafka_offset, "
            "raw_value, error_type, error_message) values ('transactions.raw', 0, 7, %s, "
            "'contract', 'bad')",
            (b"\x00",),
        )
        conn.execute("update bronze.dead_letters set reprocessed_at = now() where kafka_offset = 7")
        conn.execute("create temporary table stage_x (like bronze.transactions)")
        conn.commit()
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select count(*) from app.alerts")
    with psycopg.connect(pg_settings.dsn()) as conn:
        projected = conn.execute(
            "select rule_ids from app.alerts where alert_id = %s", (ALERT_ID,)
        ).fetchone()
    assert projected == (["R1"],)


def test_api_reads_what_it_shows_and_writes_its_tables(pg_settings: PostgresSettings) -> None:
    with psycopg.connect(pg_settings.dsn()) as conn:
        _land_alert(conn, 2)
    with connect_as(pg_settings, API) as conn:
        # Its projections of bronze (V036, V042), not bronze itself (the test below).
        conn.execute("select count(*) from app.scored_transactions")
        conn.execute("select count(*) from app.realtime_metrics")
        conn.execute("select count(*) from ref.customers")
        conn.execute(
            "insert into app.api_keys (key_id, name, key_hash, scopes) "
            "values ('k1', 'test', 'h', '{read}')"
        )
        updated = conn.execute(
            "update app.alerts set status = 'confirmed_fraud' where alert_id = %s", (ALERT_ID,)
        ).rowcount
        assert updated == 1
        conn.commit()
        # The metrics projection has one writer, the landing trigger.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("delete from app.realtime_metrics")


def test_api_reads_no_bronze_table(pg_settings: PostgresSettings) -> None:
    """Issue 18 item 5 (V043): every bronze table, today's and a later migration's, is refused."""
    with psycopg.connect(pg_settings.dsn()) as conn:
        conn.execute("create table bronze.later (x int)")
        tables = [
            name
            for (name,) in conn.execute(
                "select tablename from pg_tables where schemaname = 'bronze' order by 1"
            ).fetchall()
        ]
    assert {"transactions", "realtime_metrics", "scored_transactions", "later"} <= set(tables)
    readable = {
        table
        for table in tables
        if _attempt(pg_settings, API, f"select 1 from bronze.{table} limit 1")
        is not errors.InsufficientPrivilege
    }
    assert not readable, f"{API} may read bronze.{sorted(readable)}"
    with psycopg.connect(pg_settings.dsn()) as conn:
        usage = conn.execute(
            "select has_schema_privilege(%s, 'bronze', 'usage'), "
            "has_table_privilege(%s, 'bronze.realtime_metrics', 'select')",
            (API, API),
        ).fetchone()
    assert usage == (False, False)


def test_api_reads_gold_only_through_the_detection_quality_function(
    pg_settings: PostgresSettings,
) -> None:
    """V037 (ADR 0102): the quality dashboard's one read of gold is app.detection_quality(), a
    security definer function; the API role has no grant on gold itself, and the function keeps
    working when dbt replaces the table. No other service role may call it."""
    ddl = (
        "create table gold.agg_detection_quality (event_date date, rule_id text, alerts bigint, "
        "confirmed_fraud bigint, false_positives bigint, unlabelled bigint, fraud_total bigint, "
        "precision double precision, recall double precision, avg_time_to_detect_ms numeric, "
        "p50_time_to_detect_ms double precision, max_time_to_detect_ms integer)"
    )
    row = (
        "insert into gold.agg_detection_quality "
        "values (current_date, 'ALL', %s, 1, 0, 0, 1, 1, 1, 1, 1, 1)"
    )
    call = "select rule_id, alerts from app.detection_quality(current_date, current_date, 5)"
    with connect_as(pg_settings, WAREHOUSE) as conn:
        conn.execute(ddl)
        conn.execute(row, (1,))
        conn.commit()
    with connect_as(pg_settings, API) as conn:
        assert conn.execute(call).fetchall() == [("ALL", 1)]
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select 1 from gold.agg_detection_quality")
    with connect_as(pg_settings, WAREHOUSE) as conn:  # a dbt run: a new table
        conn.execute("drop table gold.agg_detection_quality")
        conn.execute(ddl)
        conn.execute(row, (2,))
        conn.commit()
    with connect_as(pg_settings, API) as conn:
        assert conn.execute(call).fetchall() == [("ALL", 2)]
    for role in (INGESTOR, GENERATOR, WAREHOUSE):
        assert _attempt(pg_settings, role, call) is errors.InsufficientPrivilege, role


def test_generator_seeds_reference_data(pg_settings: PostgresSettings) -> None:
    with connect_as(pg_settings, GENERATOR) as conn:
        conn.execute("create temp table tmp_m (like ref.merchants including defaults)")
        conn.execute(
            "insert into ref.merchants (merchant_id, name, category) values ('m1', 'M', 'x') "
            "on conflict (merchant_id) do update set name = excluded.name"
        )
        conn.commit()


def test_warehouse_builds_silver_and_gold_and_keeps_bronze_retention(
    pg_settings: PostgresSettings,
) -> None:
    with connect_as(pg_settings, WAREHOUSE) as conn:
        conn.execute("create table silver.s (transaction_id text)")
        conn.execute("insert into silver.s select transaction_id from bronze.transactions")
        conn.execute("create table gold.g as select * from silver.s")
        conn.execute("drop table gold.g")
        conn.execute("select count(*) from ref.merchants")
        conn.execute("delete from bronze.transactions where ingested_at < now() - interval '1 day'")
        conn.execute(
            "insert into ops.warehouse_alerts (source, message) values ('dag.task', 'test')"
        )
        conn.commit()
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("update bronze.transactions set schema_version = schema_version")


def test_migrator_tables_in_warehouse_schemas_stay_the_warehouse_roles(
    pg_settings: PostgresSettings,
) -> None:
    """A later migration's table in ops (created by the owner) is usable by dbt/Airflow."""
    with psycopg.connect(pg_settings.dsn()) as conn:
        conn.execute("create table ops.later (x int)")
    with connect_as(pg_settings, WAREHOUSE) as conn:
        conn.execute("insert into ops.later values (1)")
        conn.execute("delete from ops.later")


def test_services_connect_as_their_own_role(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamflow.alert_api.config import Settings as ApiSettings
    from streamflow.fraud_scorer.config import Settings as ScorerSettings
    from streamflow.generator.config import Settings as GeneratorSettings
    from streamflow.ingestor.config import Settings as IngestorSettings
    from streamflow.platform.settings import ServiceSettings

    monkeypatch.setenv("STREAMFLOW_PG_USER", "streamflow")
    assert IngestorSettings().pg.user == INGESTOR
    assert ApiSettings().pg.user == API
    assert GeneratorSettings().pg.user == GENERATOR
    assert ServiceSettings().pg.user == "streamflow"  # tools and migrations: the owner
    assert "pg_user" not in ScorerSettings.model_fields  # the scorer never uses PostgreSQL
    monkeypatch.setenv("STREAMFLOW_INGESTOR_PG_USER", "other")
    monkeypatch.setenv("STREAMFLOW_INGESTOR_PG_PASSWORD", "s3cret")
    settings = IngestorSettings()
    assert (settings.pg.user, settings.pg.password.get_secret_value()) == ("other", "s3cret")
    explicit = PostgresSettings(user="streamflow")
    assert IngestorSettings(pg=explicit).pg.user == "streamflow"


def test_dsn_carries_the_ca_for_verify_full() -> None:
    pg = PostgresSettings(sslmode="verify-full", sslrootcert="/etc/streamflow/pg-ca/ca.crt")
    assert pg.dsn().endswith("?sslmode=verify-full&sslrootcert=/etc/streamflow/pg-ca/ca.crt")
    assert "sslrootcert" not in PostgresSettings().dsn()
