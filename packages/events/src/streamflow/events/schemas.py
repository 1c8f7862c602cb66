"""JSON Schema export of every topic's contracts and a backward-compatibility check.

``python -m streamflow.events.schemas [DIR]`` writes ``<topic>.key.json`` and
``<topic>.v<N>.json`` into ``packages/events/schemas``. The committed files are the reference: a
test regenerates them and fails on any backward-incompatible change made without bumping
``SCHEMA_VERSION`` (a consumer of version N must still read N-1 payloads).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from streamflow.events.topics import TOPICS, TopicSpec

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "schemas"


def value_schema_name(spec: TopicSpec) -> str:
    """File name of a topic's value schema at the current version."""
    return f"{spec.topic.value}.v{spec.value_model.SCHEMA_VERSION}.json"


def key_schema_name(spec: TopicSpec) -> str:
    """File name of a topic's key schema."""
    return f"{spec.topic.value}.key.json"


def current_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for every topic's key and current value contract."""
    out: dict[str, dict[str, Any]] = {}
    for spec in TOPICS.values():
        out[key_schema_name(spec)] = spec.key_model.model_json_schema(mode="validation")
        out[value_schema_name(spec)] = spec.value_model.model_json_schema(mode="validation")
    return out


def export(directory: Path = DEFAULT_DIR) -> list[Path]:
    """Write every current schema (stable formatting) and return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def breaking_changes(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """Changes that stop a reader using ``new`` from accepting data valid under ``old``."""
    problems: list[str] = []
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    problems += _object_changes(old, new, where or old.get("title", "<root>"))
    for name, old_def in old_defs.items():
        if name in new_defs:
            problems += _object_changes(old_def, new_defs[name], name)
    return problems


def _object_changes(old: dict[str, Any], new: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name in old_props.keys() - new_props.keys():
        if new.get("additionalProperties", True) is False:
            problems.append(f"{where}.{name}: field removed (old payloads carry it)")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{where}.{name}: newly required (old payloads may lack it)")
    for name in old_props.keys() & new_props.keys():
        if _type_signature(old_props[name]) != _type_signature(new_props[name]):
            problems.append(f"{where}.{name}: type changed")
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if old_enum is not None and new_enum is not None and not set(old_enum) <= set(new_enum):
        problems.append(f"{where}: enum values removed {sorted(set(old_enum) - set(new_enum))}")
    return problems


def _type_signature(prop: dict[str, Any]) -> str:
    keep = {k: prop[k] for k in ("type", "format", "$ref", "anyOf", "items") if k in prop}
    return json.dumps(keep, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    """Export the schemas into the directory given (default: the package's schemas dir)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DEFAULT_DIR
    for path in export(target):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
