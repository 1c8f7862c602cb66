"""Every `STREAMFLOW_*` variable the rendered manifests give a StreamFlow process is a real
setting: read by that process's settings class (or, for the Flink job, by its environment
module). Catches misspelt or stale names that pydantic-settings would silently ignore."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from scripts.k8s.compose import settings_env_names, source_env_names
from scripts.k8s.paths import REPO_ROOT
from scripts.k8s.problems import Manifest, Problem, describe

CHECK = "settings-env"
SHARED = "streamflow.platform.settings:ServiceSettings"
# (kind, name) -> settings classes and source files whose variables that workload may set.
READERS: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("Deployment", "generator"): (["streamflow.generator.config:Settings"], []),
    ("Deployment", "ingestor"): (["streamflow.ingestor.config:Settings"], []),
    ("Deployment", "alert-api"): (["streamflow.alert_api.config:Settings"], []),
    ("FlinkDeployment", "fraud-scorer"): (
        ["streamflow.scorer.config:Settings"],
        ["flink_jobs/src/streamflow/flink_jobs/environment.py"],
    ),
    ("ConfigMap", "streamflow-settings"): ([SHARED], []),
}


@cache
def known_names(kind: str, name: str) -> frozenset[str]:
    classes, sources = READERS[(kind, name)]
    names: set[str] = set()
    for reference in classes:
        names |= settings_env_names(reference)
    for source in sources:
        names |= source_env_names(REPO_ROOT / source)
    return frozenset(names)


def _set_names(obj: Manifest) -> set[str]:
    spec: dict[str, Any] = obj.get("spec") or {}
    if obj["kind"] == "ConfigMap":
        return set(obj.get("data") or {})
    if obj["kind"] == "FlinkDeployment":
        pod = (spec.get("podTemplate") or {}).get("spec") or {}
    else:
        pod = (spec.get("template") or {}).get("spec") or {}
    return {e["name"] for c in pod.get("containers", []) for e in c.get("env") or []}


def check_all(objs: Iterable[Manifest]) -> list[Problem]:
    found = []
    for obj in objs:
        key = (str(obj.get("kind")), str((obj.get("metadata") or {}).get("name")))
        if key not in READERS:
            continue
        try:
            known = known_names(*key)
        except (ImportError, AttributeError) as err:
            found.append(Problem(CHECK, describe(obj), f"cannot load its settings: {err!r}"))
            continue
        unknown = {n for n in _set_names(obj) if n.startswith("STREAMFLOW_")} - known
        found += [
            Problem(CHECK, describe(obj), f"sets {n}, which it never reads")
            for n in sorted(unknown)
        ]
    return found
