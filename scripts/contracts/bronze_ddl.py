"""The bronze tables as the migrations declare them: column names, types, nullability, defaults.

Reads ``packages/platform/.../migrations/V*.sql`` in version order and applies the statements that
shape ``bronze.*`` tables (``create table``, ``alter table ... add column``, ``... alter column
... type``, ``... drop column``, ``drop table``; ``... drop constraint`` changes no column).
Any other ``alter table bronze.*`` raises: the parser would otherwise describe a table that no
longer exists, so it has to learn the new form first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO_ROOT / "packages/platform/src/streamflow/platform/migrations"

_VERSION = re.compile(r"^V(\d+)__.*\.sql$")
_CREATE = re.compile(
    r"^create\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?bronze\.(\w+)\s*\((.*)\)$",
    re.DOTALL | re.IGNORECASE,
)
_ALTER = re.compile(
    r"^alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?bronze\.(\w+)\s+(.*)$",
    re.DOTALL | re.IGNORECASE,
)
_ADD_COLUMN = re.compile(
    r"^add\s+column\s+(?:if\s+not\s+exists\s+)?(.*)$", re.DOTALL | re.IGNORECASE
)
_SAME_SHAPE = re.compile(
    r"^alter\s+column\s+\w+\s+set\s+(?:compression|storage)\s+\w+$", re.IGNORECASE
)
"""How a column's values are stored (V052's lz4): its name, type and nullability stay."""
_ALTER_TYPE = re.compile(
    r"^alter\s+column\s+(\w+)\s+(?:set\s+data\s+)?type\s+(.+?)(?:\s+using\s+.*)?$",
    re.IGNORECASE,
)
"""A column's new type (V053's json payload); its name, nullability and default stay."""
_DROP_COLUMN = re.compile(r"^drop\s+column\s+(?:if\s+exists\s+)?(\w+)$", re.IGNORECASE)
"""A column gone (V054's typed columns of bronze.transactions, moved to dbt's staging)."""
_DROP_CONSTRAINT = re.compile(r"^drop\s+constraint\s+(?:if\s+exists\s+)?\w+$", re.IGNORECASE)
_DROP = re.compile(r"^drop\s+table\s+(?:if\s+exists\s+)?bronze\.(\w+)", re.IGNORECASE)
_TABLE_CONSTRAINT = (
    "primary ",
    "unique ",
    "unique(",
    "constraint ",
    "check ",
    "check(",
    "foreign ",
)
_TYPE_END = (
    "not", "null", "default", "primary", "references", "check", "unique", "constraint",
    "generated", "collate",
)  # fmt: skip
_SYNONYMS = {
    "timestamp with time zone": "timestamptz",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "bool": "boolean",
    "decimal": "numeric",
    "character varying": "varchar",
    "character": "char",
    "float8": "double precision",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a bronze table."""

    name: str
    type: str
    """Normalised: lower case, synonyms folded (``timestamptz``, ``integer``, ``numeric(14,2)``)."""
    nullable: bool
    default: str | None


def _statements(sql: str) -> list[str]:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return [" ".join(s.split()) for s in without_comments.split(";") if s.strip()]


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def normalise_type(text: str) -> str:
    """A type as written -> its canonical spelling (``numeric(14, 2)`` -> ``numeric(14,2)``)."""
    text = " ".join(text.lower().split())
    text = re.sub(r"\s*\(\s*", "(", text)
    text = re.sub(r"\s*,\s*", ",", text)
    text = re.sub(r"\s*\)", ")", text)
    base, paren, args = text.partition("(")
    base = _SYNONYMS.get(base.strip(), base.strip())
    return f"{base}{paren}{args}"


def parse_column(definition: str) -> Column:
    """``amount numeric(14, 2) not null`` -> Column (any case; the default kept as written)."""
    name, _, rest = definition.strip().partition(" ")
    words = rest.split()
    end = next((i for i, w in enumerate(words) if w.lower() in _TYPE_END), len(words))
    type_text, tail = " ".join(words[:end]), " ".join(words[end:])
    flags = tail.lower()
    default = re.search(
        r"\bdefault\s+(.+?)(?:\s+(?:not\s+null|null|primary\s+key)\b|$)", tail, re.IGNORECASE
    )
    return Column(
        name=name.strip('"').lower(),
        type=normalise_type(type_text),
        nullable="not null" not in flags and "primary key" not in flags,
        default=default.group(1) if default else None,
    )


def _apply(statement: str, tables: dict[str, dict[str, Column]], where: str) -> None:
    if match := _CREATE.match(statement):
        name, body = match.group(1).lower(), match.group(2)
        columns = {}
        for part in _split_top_level(body):
            if part.lower().startswith(_TABLE_CONSTRAINT):
                continue
            column = parse_column(part)
            columns[column.name] = column
        tables[name] = columns
    elif match := _ALTER.match(statement):
        name, action = match.group(1).lower(), match.group(2)
        if _SAME_SHAPE.match(action) or _DROP_CONSTRAINT.match(action):
            return
        if dropped := _DROP_COLUMN.match(action):
            if tables.get(name, {}).pop(dropped.group(1).lower(), None) is None:
                raise ValueError(f"{where}: {statement!r} drops a column bronze_ddl never saw")
            return
        if retyped := _ALTER_TYPE.match(action):
            column_name = retyped.group(1).lower()
            old = tables.get(name, {}).get(column_name)
            if old is None:
                raise ValueError(f"{where}: {statement!r} retypes a column bronze_ddl never saw")
            new_type = normalise_type(retyped.group(2))
            tables[name][column_name] = Column(column_name, new_type, old.nullable, old.default)
            return
        added = _ADD_COLUMN.match(action)
        if added is None or len(_split_top_level(action)) > 1:
            raise ValueError(f"{where}: bronze_ddl cannot read {statement!r}; teach it this form")
        column = parse_column(added.group(1))
        tables.setdefault(name, {})[column.name] = column
    elif match := _DROP.match(statement):
        tables.pop(match.group(1).lower(), None)


def bronze_tables(directory: Path = MIGRATIONS) -> dict[str, dict[str, Column]]:
    """``{table: {column: Column}}`` of schema ``bronze`` after every migration, in DDL order."""
    files = sorted(
        (int(m.group(1)), path)
        for path in directory.iterdir()
        if (m := _VERSION.match(path.name)) is not None
    )
    tables: dict[str, dict[str, Column]] = {}
    for _, path in files:
        for statement in _statements(path.read_text(encoding="utf-8")):
            _apply(statement, tables, path.name)
    return tables
