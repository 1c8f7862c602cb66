"""Run a step of scripts/k8s/check.sh and return the tools' findings, one line each.

kubeconform and conftest print JSON (CHECK_OUTPUT=json); each invalid object or policy failure
becomes `<Kind> <name> (<apiVersion>): <what>` or `[<policy package>] <message>`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK = REPO_ROOT / "scripts" / "k8s" / "check.sh"
NOISE = re.compile(r"problem validating schema\. .* validation failed with '[^']*' - ")


def check(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHECK_OUTPUT": "json", "PYTHON": sys.executable}
    return subprocess.run(
        ["bash", str(CHECK), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def kubeconform(rendered: str) -> list[str]:
    result = check("schemas", "-", stdin=rendered)
    assert result.returncode in (0, 1), result.stderr
    return [
        f"{r['kind']} {r['name']} ({r['version']}): {NOISE.sub('', r['msg'])}"
        for r in json.loads(result.stdout)["resources"]
        if r["status"] in ("statusInvalid", "statusError")
    ]


def conftest(policies: str, facts: Any, inputs: list[str], stdin: str | None = None) -> list[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as data:
        json.dump(facts, data)
        data.flush()
        result = check("policies", policies, data.name, *inputs, stdin=stdin)
    assert result.returncode in (0, 1), result.stderr
    assert result.stdout.startswith("["), result.stderr
    return [
        f"[{r['namespace']}] {f['msg']}"
        for r in json.loads(result.stdout)
        for f in r.get("failures") or []
    ]


def sources(tree: Path) -> list[str]:
    """The YAML files of a kustomize tree, relative to the repository, as check.sh finds them."""
    return sorted(str(p.relative_to(REPO_ROOT)) for p in tree.rglob("*.y*ml"))
