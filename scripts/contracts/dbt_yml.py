"""Generate the parts of the dbt yml that repeat the contracts, or check that they are current.

Two parts are generated, in place, leaving the rest of each file as written:

- every ``accepted_values`` list registered in :data:`ENUM_COLUMNS`: the values of a contract enum
  (``stg_transactions.channel`` is :class:`~streamflow.events.Channel`), in declaration order;
- the ``columns:`` of every ``bronze`` source table: the columns of the migrations' DDL with their
  types, described by the contract field each one stores (or by the ingestor, for its own).

An ``accepted_values`` list that is neither registered nor in :data:`LOCAL_VOCABULARIES` is an
error, so a new enum column cannot be added by hand and drift. Usage::

    scripts/uv.sh run python -m scripts.contracts.dbt_yml --check   # exit 1 and list the drift
    scripts/uv.sh run python -m scripts.contracts.dbt_yml --write   # regenerate in place
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from scripts.contracts.bronze_columns import column_description
from scripts.contracts.bronze_ddl import REPO_ROOT, bronze_tables
from streamflow.events import (
    AnalystVerdict,
    Channel,
    FeedbackSource,
    Label,
    PaymentMethod,
    Severity,
    Stage,
)
from streamflow.ingestor.tables import DEAD_LETTER_TABLE, SPECS, TableSpec

DBT = REPO_ROOT / "dbt"
STAGING = DBT / "models/staging/_staging.yml"
MARTS = DBT / "models/marts/_marts.yml"
SOURCES = DBT / "models/staging/_sources.yml"
GENERATED = "generated from the contracts: python -m scripts.contracts.dbt_yml --write"


def _values(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum)


@dataclass(frozen=True, slots=True)
class EnumColumn:
    """A dbt column whose ``accepted_values`` are a contract's enum."""

    path: Path
    node: str
    column: str
    values: tuple[str, ...]
    origin: str
    """Where the values come from, for messages."""


def _enum(path: Path, node: str, column: str, enum: type[Enum]) -> EnumColumn:
    return EnumColumn(path, node, column, _values(enum), enum.__name__)


ENUM_COLUMNS: tuple[EnumColumn, ...] = (
    _enum(STAGING, "stg_transactions", "payment_method", PaymentMethod),
    _enum(STAGING, "stg_transactions", "channel", Channel),
    _enum(STAGING, "stg_fraud_alerts", "severity", Severity),
    _enum(STAGING, "stg_feedback", "label", Label),
    _enum(STAGING, "stg_feedback", "source", FeedbackSource),
    _enum(STAGING, "stg_dead_letters", "stage", Stage),
    _enum(MARTS, "dim_store", "channel", Channel),
    _enum(MARTS, "fct_transactions", "label", Label),
    # fct_fraud_alerts.sql turns a label into the analysts' verdict; no label yet is 'pending'
    EnumColumn(
        MARTS,
        "fct_fraud_alerts",
        "outcome",
        (*_values(AnalystVerdict), "pending"),
        "AnalystVerdict + pending",
    ),
)
"""Every dbt ``accepted_values`` list that mirrors a contract enum."""

LOCAL_VOCABULARIES: frozenset[tuple[str, str]] = frozenset(
    {("stg_transactions_rejects", "reject_reason")}
)
"""``accepted_values`` lists that are the warehouse's own vocabulary, not a contract's."""


def _block(lines: list[str], start: int, indent: int) -> int:
    """The index after the block that starts at ``lines[start]`` (a list item at ``indent``)."""
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and (len(line) - len(line.lstrip())) <= indent:
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _find_item(lines: list[str], lo: int, hi: int, indent: int, name: str) -> int:
    pattern = re.compile(rf"^ {{{indent}}}- name: {re.escape(name)}\s*(#.*)?$")
    for i in range(lo, hi):
        if pattern.match(lines[i]):
            return i
    raise LookupError(name)


def render_enums(text: str, path: Path) -> str:
    """``text`` (the yml at ``path``) with every registered enum list set to its values."""
    lines = text.split("\n")
    for spec in (s for s in ENUM_COLUMNS if s.path == path):
        where = f"{path.relative_to(REPO_ROOT)}: {spec.node}.{spec.column}"
        try:
            node = _find_item(lines, 0, len(lines), 2, spec.node)
            node_end = _block(lines, node, 2)
            column = _find_item(lines, node + 1, node_end, 6, spec.column)
        except LookupError as exc:
            raise LookupError(f"{where}: no such model/column ({exc} not found)") from None
        column_end = _block(lines, column, 6)
        chunk = "\n".join(lines[column:column_end])
        match = re.search(r"accepted_values:.*?\bvalues:\s*\[([^\]]*)\]", chunk, re.DOTALL)
        if match is None:
            raise LookupError(f"{where}: no accepted_values test with a [values] list")
        chunk = chunk[: match.start(1)] + ", ".join(spec.values) + chunk[match.end(1) :]
        lines[column:column_end] = chunk.split("\n")
    return "\n".join(lines)


def _source_columns(table: str) -> list[str]:
    spec: TableSpec | None = next((s for s in SPECS.values() if s.table == table), None)
    if spec is None and table != DEAD_LETTER_TABLE:
        raise LookupError(f"bronze.{table}: neither a TableSpec table nor {DEAD_LETTER_TABLE}")
    out = []
    for column in bronze_tables()[table].values():
        entry: dict[str, Any] = {"name": column.name, "data_type": column.type}
        description = column_description(spec, column.name)
        if description:
            entry["description"] = description
        rendered = yaml.safe_dump(entry, default_flow_style=True, sort_keys=False, width=10_000)
        out.append(f"          - {rendered.strip()}")
    return out


def render_sources(text: str) -> str:
    """``text`` (the sources yml) with every bronze table's ``columns:`` generated."""
    lines = text.split("\n")
    source = _find_item(lines, 0, len(lines), 2, "bronze")
    tables = next(i for i in range(source, _block(lines, source, 2)) if lines[i] == "    tables:")
    i = tables + 1
    while i < _block(lines, source, 2):
        match = re.match(r"^      - name: (\w+)\s*$", lines[i])
        if match is None:
            i += 1
            continue
        end = _block(lines, i, 6)
        kept, j = [], i
        while j < end:  # drop the previous generated block
            if lines[j].startswith("        columns:"):
                j = _block(lines, j, 8)
                continue
            kept.append(lines[j])
            j += 1
        block = [*kept, f"        columns:  # {GENERATED}", *_source_columns(match.group(1))]
        lines[i:end] = block
        i += len(block)
    return "\n".join(lines)


def rendered() -> dict[Path, str]:
    """Every generated file's text as it should be."""
    out: dict[Path, str] = {}
    for path in sorted({s.path for s in ENUM_COLUMNS}):
        out[path] = render_enums(path.read_text(encoding="utf-8"), path)
    out[SOURCES] = render_sources(SOURCES.read_text(encoding="utf-8"))
    return out


def accepted_values(path: Path) -> Iterator[tuple[str, str, list[Any]]]:
    """``(node, column, values)`` of every ``accepted_values`` test in a dbt yml file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    nodes: list[dict[str, Any]] = []
    for section in ("models", "snapshots", "seeds", "sources"):
        entries = document.get(section)
        if isinstance(entries, list):  # dbt_project.yml's `models:` is configuration, a mapping
            nodes += entries
            nodes += [t for e in entries if section == "sources" for t in e.get("tables") or []]
    for node in nodes:
        for column in node.get("columns") or []:
            for test in column.get("data_tests") or column.get("tests") or []:
                if isinstance(test, dict) and "accepted_values" in test:
                    args = test["accepted_values"]
                    values = (args.get("arguments") or args).get("values")
                    yield node["name"], column["name"], list(values or [])


def unregistered() -> list[str]:
    """``accepted_values`` lists in the dbt project that nothing generates or excuses."""
    known = {(s.node, s.column) for s in ENUM_COLUMNS} | LOCAL_VOCABULARIES
    problems = []
    for path in sorted(DBT.glob("**/*.yml")):
        if any(part in {"target", "dbt_packages", "logs"} for part in path.parts):
            continue
        for node, column, values in accepted_values(path):
            if (node, column) not in known:
                problems.append(
                    f"{path.relative_to(REPO_ROOT)}: {node}.{column} accepted_values {values} "
                    "is not in scripts/contracts/dbt_yml.ENUM_COLUMNS (or LOCAL_VOCABULARIES)"
                )
    return problems


def drift() -> list[str]:
    """Files whose generated parts are stale, plus unregistered lists (empty when current)."""
    stale = [
        f"{path.relative_to(REPO_ROOT)}: generated parts are stale "
        "(run: scripts/uv.sh run python -m scripts.contracts.dbt_yml --write)"
        for path, text in rendered().items()
        if path.read_text(encoding="utf-8") != text
    ]
    return stale + unregistered()


def main(argv: list[str] | None = None) -> int:
    """``--check`` (default) lists drift and exits 1; ``--write`` regenerates the files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report drift, change nothing")
    mode.add_argument("--write", action="store_true", help="rewrite the generated parts")
    args = parser.parse_args(argv)
    if args.write:
        for path, text in rendered().items():
            if path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path.relative_to(REPO_ROOT)}")
    problems = drift()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
