"""Validate custom resources against the openAPIV3Schema of their CRD's served version.

The API server prunes (or, with strict field validation, rejects) fields a structural schema
does not declare. JSON Schema would silently accept them, so every object schema with declared
properties is closed here unless it says `x-kubernetes-preserve-unknown-fields`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema in the dev group
import yaml

from scripts.k8s.paths import crds_dir
from scripts.k8s.problems import Manifest, Problem, describe

CHECK = "crd-schema"
Schema = dict[str, Any]
# libyaml parses the large CRD files ~10x faster than the pure-Python loader.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
GroupVersionKind = tuple[str, str]  # (apiVersion, kind)


def close_schema(schema: Any) -> Any:
    """A copy of `schema` in which objects with properties reject unknown fields."""
    if isinstance(schema, list):
        return [close_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: close_schema(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    return closed


def load_crds(directory: Path) -> dict[GroupVersionKind, Schema]:
    """Closed schema of every served version of every CRD in `directory`."""
    schemas: dict[GroupVersionKind, Schema] = {}
    for path in sorted(directory.glob("*.yaml")):
        for crd in yaml.load_all(path.read_text(), Loader=LOADER):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served") and "schema" in version:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    schema = close_schema(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                    # The API server validates these itself; some CRDs do not declare them.
                    props = schema.setdefault("properties", {})
                    props["metadata"] = {"type": "object"}
                    props.setdefault("apiVersion", {"type": "string"})
                    props.setdefault("kind", {"type": "string"})
                    schemas[key] = schema
    return schemas


@cache
def default_crds() -> dict[GroupVersionKind, Schema]:
    return load_crds(crds_dir())


def custom_kinds(schemas: dict[GroupVersionKind, Schema]) -> set[GroupVersionKind]:
    return set(schemas)


def crd_groups(schemas: dict[GroupVersionKind, Schema]) -> set[str]:
    return {api_version.split("/")[0] for api_version, _ in schemas}


def validate_one(obj: Manifest, schemas: dict[GroupVersionKind, Schema]) -> list[Problem]:
    key = (str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    schema = schemas.get(key)
    if schema is None:
        served = sorted(v for v, k in schemas if k == key[1])
        if served:
            return [Problem(CHECK, describe(obj), f"{key[0]} is not served; use {served}")]
        return []
    if not (obj.get("metadata") or {}).get("name"):
        return [Problem(CHECK, describe(obj), "metadata.name is missing")]
    validator = jsonschema.Draft7Validator(schema)
    return [
        Problem(CHECK, describe(obj), f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}")
        for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))
    ]


def validate_all(
    objs: Iterable[Manifest], schemas: dict[GroupVersionKind, Schema]
) -> list[Problem]:
    """Problems of every custom resource (objects of other kinds are ignored here)."""
    return [p for obj in objs for p in validate_one(obj, schemas)]
