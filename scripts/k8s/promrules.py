"""promtool on rules kept in Kubernetes objects: `python -m scripts.k8s.promrules RENDERED.yaml...`.

promtool checks rule files, not Kubernetes objects, so each PrometheusRule's spec, and each
Grafana dashboard's queries wrapped as recording rules, go to a rules file for `promtool check
rules` first. Prints one line per problem; exit 1 on any.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from scripts.k8s.render import Manifest, parse


def check_rules(groups: dict[str, Any]) -> list[str]:
    if not groups.get("groups"):
        return ["no rules or queries"]
    with tempfile.TemporaryDirectory(prefix="streamflow-rules-") as tmp:
        path = Path(tmp) / "rules.yaml"
        path.write_text(yaml.safe_dump(groups, sort_keys=False))
        command = [shutil.which("promtool") or "promtool", "check", "rules", str(path)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    output = (result.stderr + result.stdout).replace(str(path), "rules").strip()
    return [] if result.returncode == 0 else [output]


def check(objs: Iterable[Manifest]) -> list[str]:
    """Problems of every PrometheusRule and every Grafana dashboard's queries."""
    found = []
    for obj in objs:
        meta = obj["metadata"]
        groups = obj.get("spec") if obj["kind"] == "PrometheusRule" else None
        if obj["kind"] == "ConfigMap" and "grafana_dashboard" in meta.get("labels", {}):
            panels = [p for text in obj["data"].values() for p in json.loads(text)["panels"]]
            exprs = [t["expr"] for p in panels for t in p.get("targets", []) if t.get("expr")]
            rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]
            groups = {"groups": [{"name": "dashboard", "rules": rules}]} if rules else {}
        if groups is not None:
            subject = f"{obj['kind']} {meta.get('namespace')}/{meta['name']}"
            found += [f"{subject}: {line}" for line in check_rules(groups)]
    return found


if __name__ == "__main__":
    problems = [p for arg in sys.argv[1:] for p in check(parse(Path(arg).read_text()))]
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)
