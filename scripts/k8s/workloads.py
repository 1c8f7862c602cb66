"""Find pod specs and container images inside rendered manifests, whatever their kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scripts.k8s.problems import Manifest

PodSpec = dict[str, Any]
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def pod_spec(obj: Manifest) -> PodSpec | None:
    """The pod spec of a built-in workload (None for other kinds)."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec if isinstance(spec, dict) else None
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    elif kind not in WORKLOAD_KINDS:
        return None
    template = (spec.get("template") or {}).get("spec")
    return template if isinstance(template, dict) else None


def containers(spec: PodSpec) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def images(obj: Manifest) -> Iterator[str]:
    """Every image an object makes the cluster run (built-in workloads and our operators' CRs)."""
    spec = obj.get("spec") or {}
    pod = pod_spec(obj)
    if pod is not None:
        yield from (c.get("image", "") for c in containers(pod))
    kind = obj.get("kind")
    if kind == "FlinkDeployment":
        yield spec.get("image", "")
        template = (spec.get("podTemplate") or {}).get("spec") or {}
        yield from (c["image"] for c in containers(template) if "image" in c)
    elif kind == "Cluster" and "imageName" in spec:
        yield spec["imageName"]
    elif kind == "Kafka" and "image" in (spec.get("kafka") or {}):
        yield spec["kafka"]["image"]
