"""Policy checks on rendered manifests: pinned images and charts, resources, non-root, probes,
hardened containers, PDBs, default-deny network policies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scripts.k8s.problems import Manifest, Problem, describe
from scripts.k8s.workloads import containers, images, pod_spec

CHECK = "policy"
FLOATING_TAGS = {"latest", "stable", "main", "master", "edge", "nightly"}
FLOATING_VERSION = re.compile(r"[*xX^~<>|]|^\s*$")


def image_problems(obj: Manifest) -> list[Problem]:
    found = []
    for image in images(obj):
        name, _, digest = image.partition("@")
        tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
        if not digest and (not tag or tag in FLOATING_TAGS):
            found.append(Problem(CHECK, describe(obj), f"image {image!r} has a floating tag"))
    return found


def chart_problems(obj: Manifest) -> list[Problem]:
    if obj.get("kind") != "HelmChart":
        return []
    version = str((obj.get("spec") or {}).get("version", ""))
    if FLOATING_VERSION.search(version):
        return [Problem(CHECK, describe(obj), f"chart version {version!r} is not pinned")]
    return []


def _resources_complete(resources: dict[str, Any]) -> bool:
    return all(
        res in (resources.get(part) or {})
        for part in ("requests", "limits")
        for res in ("cpu", "memory")
    )


def container_problems(obj: Manifest) -> list[Problem]:
    """Resources, non-root, hardening and probes of every container of a built-in workload."""
    spec = pod_spec(obj)
    if spec is None:
        return []
    found = []
    pod_non_root = (spec.get("securityContext") or {}).get("runAsNonRoot") is True
    for c in containers(spec):
        where = f"{describe(obj)} container {c.get('name')}"
        sc = c.get("securityContext") or {}
        rules = {
            "requests and limits for cpu and memory": _resources_complete(c.get("resources") or {}),
            "runAsNonRoot: true": pod_non_root or sc.get("runAsNonRoot") is True,
            "allowPrivilegeEscalation: false": sc.get("allowPrivilegeEscalation") is False,
            "capabilities.drop: [ALL]": "ALL" in ((sc.get("capabilities") or {}).get("drop") or []),
            "readOnlyRootFilesystem: true": sc.get("readOnlyRootFilesystem") is True,
            "a livenessProbe": "livenessProbe" in c,
            "a readinessProbe": "readinessProbe" in c,
        }
        found += [Problem(CHECK, where, f"needs {rule}") for rule, ok in rules.items() if not ok]
    return found


def flink_problems(obj: Manifest) -> list[Problem]:
    """The scorer's FlinkDeployment: non-root pods, sized JM/TM, RocksDB, savepoint upgrades."""
    if obj.get("kind") != "FlinkDeployment":
        return []
    spec = obj.get("spec") or {}
    conf = spec.get("flinkConfiguration") or {}
    template = (spec.get("podTemplate") or {}).get("spec") or {}
    rules = {
        "podTemplate runAsNonRoot: true": (template.get("securityContext") or {}).get(
            "runAsNonRoot"
        )
        is True,
        "jobManager/taskManager resource": all(
            (spec.get(r) or {}).get("resource") for r in ("jobManager", "taskManager")
        ),
        "state.backend.type: rocksdb": conf.get("state.backend.type") == "rocksdb",
        "a checkpoint directory": bool(conf.get("execution.checkpointing.dir")),
        "job.upgradeMode: savepoint": (spec.get("job") or {}).get("upgradeMode") == "savepoint",
    }
    return [Problem(CHECK, describe(obj), f"needs {rule}") for rule, ok in rules.items() if not ok]


def _selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    wanted = selector.get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def pdb_problems(objs: list[Manifest]) -> list[Problem]:
    """Every Deployment is covered by a PodDisruptionBudget in its namespace."""
    pdbs = [o for o in objs if o.get("kind") == "PodDisruptionBudget"]
    found = []
    for dep in (o for o in objs if o.get("kind") == "Deployment"):
        ns = dep["metadata"].get("namespace")
        labels = ((dep["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not any(
            p["metadata"].get("namespace") == ns
            and _selects(p["spec"].get("selector") or {}, labels)
            for p in pdbs
        ):
            found.append(Problem(CHECK, describe(dep), "no PodDisruptionBudget selects its pods"))
    return found


def network_policy_problems(objs: list[Manifest]) -> list[Problem]:
    """Every namespace running built-in workloads has a default-deny (ingress + egress) policy."""
    denied = {
        o["metadata"].get("namespace")
        for o in objs
        if o.get("kind") == "NetworkPolicy"
        and not (o["spec"].get("podSelector") or {})
        and {"Ingress", "Egress"} <= set(o["spec"].get("policyTypes") or [])
        and not o["spec"].get("ingress")
        and not o["spec"].get("egress")
    }
    workload_ns = {o["metadata"].get("namespace") for o in objs if pod_spec(o) is not None}
    return [
        Problem(CHECK, f"namespace {ns}", "no default-deny NetworkPolicy")
        for ns in sorted(n for n in workload_ns - denied if n)
    ]


def min_replicas_problems(objs: Iterable[Manifest], minimum: int) -> list[Problem]:
    """Deployments (and the HPA floor) below `minimum` replicas; used for prod."""
    found = []
    for o in objs:
        kind, spec = o.get("kind"), o.get("spec") or {}
        count = spec.get("replicas", 1) if kind == "Deployment" else spec.get("minReplicas", 1)
        if kind in {"Deployment", "HorizontalPodAutoscaler"} and count < minimum:
            found.append(Problem(CHECK, describe(o), f"{count} replicas, want >= {minimum}"))
    return found


def check_all(objs: list[Manifest]) -> list[Problem]:
    per_object = [
        p
        for o in objs
        for check in (image_problems, chart_problems, container_problems, flink_problems)
        for p in check(o)
    ]
    return per_object + pdb_problems(objs) + network_policy_problems(objs)
