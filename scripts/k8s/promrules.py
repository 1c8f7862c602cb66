"""`promtool check rules` on every PrometheusRule, and on the queries of every Grafana dashboard
(wrapped into recording rules, so promtool parses each PromQL expression)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from scripts.k8s.problems import Manifest, Problem, describe

CHECK = "promtool"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise FileNotFoundError("promtool not found: run scripts/setup.d/60-deploy-tools.sh")
    return found


def check_rules_file(groups: dict[str, Any], subject: str) -> list[Problem]:
    with tempfile.TemporaryDirectory(prefix="streamflow-rules-") as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_text(yaml.safe_dump(groups, sort_keys=False))
        result = subprocess.run(  # noqa: S603 - promtool on a file we wrote
            [promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False
        )
    if result.returncode == 0:
        return []
    output = (result.stderr + result.stdout).replace(str(path), "rules").strip()
    return [Problem(CHECK, subject, output)]


def dashboard_exprs(obj: Manifest) -> list[str]:
    exprs = []
    for text in (obj.get("data") or {}).values():
        dashboard = json.loads(text)
        for panel in dashboard.get("panels", []):
            exprs += [t["expr"] for t in panel.get("targets", []) if t.get("expr")]
    return exprs


def check_all(objs: Iterable[Manifest]) -> list[Problem]:
    found: list[Problem] = []
    for obj in objs:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if obj.get("kind") == "PrometheusRule":
            found += check_rules_file(dict(obj.get("spec") or {}), describe(obj))
        elif obj.get("kind") == "ConfigMap" and labels.get("grafana_dashboard") == "1":
            rules = [
                {"record": f"dashboard:query_{i}", "expr": expr}
                for i, expr in enumerate(dashboard_exprs(obj))
            ]
            if not rules:
                found.append(Problem(CHECK, describe(obj), "a dashboard without queries"))
                continue
            groups = {"groups": [{"name": "dashboard", "rules": rules}]}
            found += check_rules_file(groups, describe(obj))
    return found
