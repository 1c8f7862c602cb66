"""scripts/k8s/apply.sh splits a rendered overlay into operators first, everything else second."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from scripts.k8s.paths import REPO_ROOT

APPLY = REPO_ROOT / "scripts" / "k8s" / "apply.sh"


def phase(text: str, number: int, tmp_path: Path) -> list[dict[str, object]]:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(text)
    result = subprocess.run(
        ["bash", str(APPLY), "--print-phase", str(number), str(rendered)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_phases_partition_each_overlay(rendered_text: dict[str, str], tmp_path: Path) -> None:
    for text in rendered_text.values():
        everything = [d for d in yaml.safe_load_all(text) if d]
        first, second = phase(text, 1, tmp_path), phase(text, 2, tmp_path)
        assert len(first) + len(second) == len(everything)
        assert {str(d["kind"]) for d in first} == {"Namespace", "HelmChart"}
        charts = {d["metadata"]["name"] for d in first if d["kind"] == "HelmChart"}  # type: ignore[index]
        assert charts == {
            "strimzi-kafka-operator",
            "flink-kubernetes-operator",
            "cloudnative-pg",
            "kube-prometheus-stack",
        }
        assert not any(d["kind"] == "Namespace" for d in second)


def test_apply_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(APPLY)], check=True)
