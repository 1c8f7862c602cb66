from __future__ import annotations

import json
from pathlib import Path

from streamflow.events import schemas

COMMITTED = Path(__file__).resolve().parents[1] / "schemas"


def test_committed_schemas_are_current_and_compatible() -> None:
    """A contract change: breaking ones need a SCHEMA_VERSION bump, all need a re-export."""
    problems: list[str] = []
    for name, schema in schemas.current_schemas().items():
        path = COMMITTED / name
        if not path.exists():
            problems.append(f"{name}: not committed (new version?) - run the schema export")
            continue
        old = json.loads(path.read_text(encoding="utf-8"))
        for change in schemas.breaking_changes(old, schema):
            problems.append(f"{name}: BREAKING {change} - bump SCHEMA_VERSION instead")
        if old != schema:
            problems.append(f"{name}: differs from the committed file - re-export the schemas")
    assert not problems, "\n".join(problems)


def _obj(props: dict[str, object], required: list[str]) -> dict[str, object]:
    return {"properties": props, "required": required, "additionalProperties": False}


def test_breaking_changes_are_detected() -> None:
    old = _obj({"a": {"type": "string"}, "b": {"type": "integer"}}, ["a"])
    assert schemas.breaking_changes(old, old) == []
    removed = _obj({"a": {"type": "string"}}, ["a"])
    assert any("field removed" in p for p in schemas.breaking_changes(old, removed))
    required = _obj({"a": {"type": "string"}, "b": {"type": "integer"}}, ["a", "b"])
    assert any("newly required" in p for p in schemas.breaking_changes(old, required))
    retyped = _obj({"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a"])
    assert any("type changed" in p for p in schemas.breaking_changes(old, retyped))
    added = _obj({"a": {"type": "string"}, "b": {"type": "integer"}, "c": {}}, ["a"])
    assert schemas.breaking_changes(old, added) == []


def test_enum_narrowing_in_definitions_is_breaking() -> None:
    old = {"$defs": {"Channel": {"enum": ["pos", "online"]}}}
    new = {"$defs": {"Channel": {"enum": ["pos"]}}}
    assert schemas.breaking_changes(old, new) == ["Channel: enum values removed ['online']"]
    wider = {"$defs": {"Channel": {"enum": ["pos", "online", "mobile"]}}}
    assert schemas.breaking_changes(old, wider) == []


def test_export_writes_every_file(tmp_path: Path) -> None:
    written = schemas.export(tmp_path)
    assert {p.name for p in written} == set(schemas.current_schemas())
    assert schemas.main([str(tmp_path)]) == 0
