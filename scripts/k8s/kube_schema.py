"""Validate built-in Kubernetes objects against the API's JSON schemas (kubernetes-validate).

Strict mode: unknown fields fail. A kind without a Kubernetes schema fails too, unless it is one
of the custom resources whose CRD we have (those are validated by `crd_schema`).
"""

from __future__ import annotations

from collections.abc import Iterable

import kubernetes_validate  # type: ignore[import-untyped]

from scripts.k8s.paths import KUBERNETES_VERSION
from scripts.k8s.problems import Manifest, Problem, describe

CHECK = "kubernetes-schema"


def validate_one(obj: Manifest, custom_kinds: set[tuple[str, str]]) -> list[Problem]:
    key = (str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if key in custom_kinds:
        return []
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [Problem(CHECK, describe(obj), f"unknown kind {key[1]} in {key[0]}: no schema")]
    except kubernetes_validate.ValidationError as err:
        where = ".".join(str(p) for p in err.path) or "<root>"
        return [Problem(CHECK, describe(obj), f"{where}: {err.message}")]
    return []


def validate_all(objs: Iterable[Manifest], custom_kinds: set[tuple[str, str]]) -> list[Problem]:
    """Problems of every object that is not a known custom resource."""
    return [p for obj in objs for p in validate_one(obj, custom_kinds)]
