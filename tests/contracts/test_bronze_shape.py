"""Bronze DDL (the migrations) vs the ingestor's TableSpec vs the contract fields it stores.

Fails naming the table and column when a column is added to one and not the others, when a typed
column no longer stores the contract field of its name (or the extract function puts a value in
the wrong column), when a column's type or nullability cannot hold its contract field, or when
SQL in a migration reads a ``payload`` key that the table's contract does not have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.contracts.bronze_columns import contract_field
from scripts.contracts.bronze_ddl import MIGRATIONS, Column, bronze_tables, parse_column
from scripts.contracts.shapes import FieldShape, field_shape, field_value
from streamflow.events import TOPICS, Topic
from streamflow.events.examples import EXAMPLES
from streamflow.ingestor.tables import (
    DEAD_LETTER_COLUMNS,
    DEAD_LETTER_TABLE,
    KAFKA_COLUMNS,
    SPECS,
    TRAILING_COLUMNS,
    TableSpec,
)

TABLES = bronze_tables()
INGESTOR_TYPES = {
    "kafka_topic": "text",
    "kafka_partition": "integer",
    "kafka_offset": "bigint",
    "kafka_timestamp": "timestamptz",
    "schema_version": "smallint",
}
"""The columns the ingestor adds to every topic table (not contract fields); ``payload`` is of its
TableSpec's ``payload_type``."""


def _ddl(spec: TableSpec) -> dict[str, Column]:
    assert spec.table in TABLES, f"bronze.{spec.table} (TableSpec of {spec.topic}) has no DDL"
    return TABLES[spec.table]


def pg_type_problem(shape: FieldShape, pg: str) -> str | None:
    """Why PostgreSQL type ``pg`` cannot hold contract field ``shape`` (None when it can)."""
    base, _, args = pg.partition("(")
    params = [int(p) for p in args.rstrip(")").split(",")] if args else []
    kind = shape.kind
    if kind == "bool":
        fits = pg == "boolean"
    elif kind == "int":
        fits = pg in {"smallint", "integer", "bigint"}
    elif kind == "float":
        fits = pg in {"double precision", "real"} or base == "numeric"
    elif kind == "decimal":
        fits = (
            base == "numeric"
            and len(params) == 2
            and params[1] == shape.decimal_places
            and (shape.max_digits is None or params[0] == shape.max_digits)
        )
        if not fits:
            digits = shape.max_digits if shape.max_digits is not None else "p"
            return f"needs numeric({digits},{shape.decimal_places}) for the contract's decimal"
    elif kind == "datetime":
        fits = pg == "timestamptz"
    elif kind in {"str", "enum"}:
        longest = shape.max_length if kind == "str" else max(map(len, shape.enum_values))
        fixed = kind == "str" and shape.min_length == shape.max_length
        if base == "text":
            fits = True
        elif base == "varchar":
            fits = longest is not None and params[0] >= longest
        elif base == "char":
            fits = fixed and params[0] == shape.max_length
        elif base == "uuid":
            fits = fixed and shape.max_length == 36
        else:
            fits = False
    else:
        fits = pg == "jsonb"
    return None if fits else f"{pg} cannot hold a {kind}"


def test_every_ingested_topic_has_a_table_spec_of_its_contract() -> None:
    # control topics are not ingested: rule sets and model releases live in their own stores
    assert set(SPECS) == set(TOPICS) - {Topic.FRAUD_RULES, Topic.FRAUD_MODELS}
    for topic, spec in SPECS.items():
        assert spec.model is TOPICS[topic].value_model, f"{spec.table}: {spec.model.__name__}"


def test_every_bronze_table_is_written_by_the_ingestor() -> None:
    ledgers = {spec.ledger for spec in SPECS.values() if spec.ledger is not None}
    written = {spec.table for spec in SPECS.values()} | {DEAD_LETTER_TABLE} | ledgers
    assert set(TABLES) == written, (
        f"DDL only: {set(TABLES) - written}; no DDL: {written - set(TABLES)}"
    )


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda s: s.table)
def test_ddl_columns_equal_the_table_spec_columns(spec: TableSpec) -> None:
    ddl = _ddl(spec)
    defaulted = {name for name, col in ddl.items() if col.default is not None}
    written = set(spec.columns)
    assert spec.columns[: len(KAFKA_COLUMNS)] == KAFKA_COLUMNS
    assert spec.columns[-len(TRAILING_COLUMNS) :] == TRAILING_COLUMNS
    missing = sorted(written - set(ddl))
    assert not missing, (
        f"bronze.{spec.table}: TableSpec writes {missing}, the DDL has no such column"
    )
    unwritten = sorted(set(ddl) - written - defaulted)
    assert not unwritten, f"bronze.{spec.table}: DDL columns {unwritten} are never written"


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda s: s.table)
def test_typed_columns_store_the_contract_field_of_their_name(spec: TableSpec) -> None:
    example = EXAMPLES[spec.topic]
    row = spec.extract(example)
    assert len(row) == len(spec.typed_columns), f"bronze.{spec.table}: extract arity"
    for column, value in zip(spec.typed_columns, row, strict=True):
        path = contract_field(spec, column)
        expected = field_value(example, path)
        assert value == expected, (
            f"bronze.{spec.table}.{column}: extract gives {value!r}, "
            f"{spec.model.__name__}.{path} is {expected!r}"
        )


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda s: s.table)
def test_column_types_and_nullability_fit_the_contract(spec: TableSpec) -> None:
    ddl = _ddl(spec)
    problems = []
    for column in spec.typed_columns:
        path = contract_field(spec, column)
        shape = field_shape(spec.model, path)
        col = ddl[column]
        reason = pg_type_problem(shape, col.type)
        if reason:
            problems.append(
                f"bronze.{spec.table}.{column} ({spec.model.__name__}.{path}): {reason}"
            )
        if col.nullable != shape.nullable:
            null = "nullable" if col.nullable else "not null"
            field = "optional" if shape.nullable else "never null"
            where = f"{spec.model.__name__}.{path}"
            problems.append(f"bronze.{spec.table}.{column} is {null} but {where} is {field}")
    for column, pg in {**INGESTOR_TYPES, "payload": spec.payload_type}.items():
        if ddl[column].type != pg:
            problems.append(f"bronze.{spec.table}.{column}: {ddl[column].type}, expected {pg}")
    assert not problems, "\n".join(problems)


def test_dead_letters_table_holds_what_the_ingestor_writes() -> None:
    ddl = TABLES[DEAD_LETTER_TABLE]
    missing = [c for c in DEAD_LETTER_COLUMNS if c not in ddl]
    assert not missing, f"bronze.dead_letters lacks {missing}"
    rest = [name for name, col in ddl.items() if name not in DEAD_LETTER_COLUMNS]
    unfilled = [n for n in rest if ddl[n].default is None and not ddl[n].nullable]
    assert not unfilled, f"bronze.dead_letters.{unfilled}: not null, no default, never written"


def test_payload_keys_read_by_migrations_are_contract_fields() -> None:
    # e.g. V030's trigger projects bronze.fraud_alerts payloads into app.alerts
    by_table = {spec.table: spec.model for spec in SPECS.values()}
    problems, reads = [], 0
    for path in sorted(MIGRATIONS.glob("V*.sql")):
        sql = path.read_text(encoding="utf-8")
        keys = re.findall(r"payload\s*->>?\s*'(\w+)'", sql)
        models = [by_table[t] for t in set(re.findall(r"bronze\.(\w+)", sql)) if t in by_table]
        for key in keys:
            reads += 1
            if not any(key in model.model_fields for model in models):
                names = [m.__name__ for m in models] or "no bronze topic table"
                problems.append(f"{path.name}: payload '{key}' is not a field of {names}")
    assert reads, "no payload reads found in the migrations: has the layout changed?"
    assert not problems, "\n".join(problems)


def test_the_ddl_reader_applies_added_columns_and_refuses_other_alters(tmp_path: Path) -> None:
    (tmp_path / "V001__a.sql").write_text(
        "-- a comment; with a semicolon\n"
        "create table bronze.t (\n  a numeric(14, 2) not null,\n  b text,\n"
        "  c timestamp with time zone not null default now(),\n  primary key (a)\n);\n"
        "create table silver.x (y int);\n",
        encoding="utf-8",
    )
    (tmp_path / "V010__b.sql").write_text(
        "alter table bronze.t add column d int;\n"
        "alter table bronze.t alter column b set compression lz4;\n"
        "alter table bronze.t alter column b type JSON using b::json;\n"
        "alter table bronze.t add column e int;\n"
        "alter table bronze.t drop column e;\n"
        "alter table bronze.t drop constraint t_pkey;",
        "utf-8",
    )
    tables = bronze_tables(tmp_path)
    assert list(tables) == ["t"]
    assert tables["t"] == {
        "a": Column("a", "numeric(14,2)", False, None),
        "b": Column("b", "json", True, None),
        "c": Column("c", "timestamptz", False, "now()"),
        "d": Column("d", "integer", True, None),
    }
    (tmp_path / "V011__c.sql").write_text("alter table bronze.t rename column b to e;", "utf-8")
    with pytest.raises(ValueError, match="cannot read"):
        bronze_tables(tmp_path)
    assert parse_column("x CHAR(3) DEFAULT 'BRL' NOT NULL") == Column(
        "x", "char(3)", False, "'BRL'"
    )


def test_a_drifted_column_is_named() -> None:
    spec = SPECS[Topic.TRANSACTIONS_RAW]
    amount = field_shape(spec.model, "amount")
    assert pg_type_problem(amount, "numeric(12,2)") == (
        "needs numeric(14,2) for the contract's decimal"
    )
    assert pg_type_problem(field_shape(spec.model, "currency"), "char(2)") is not None
    assert pg_type_problem(field_shape(spec.model, "channel"), "varchar(3)") is not None
    with pytest.raises(KeyError, match=r"bronze\.transactions\.nope"):
        contract_field(spec, "nope")
