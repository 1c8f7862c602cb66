"""Render a kustomization, secrets from the committed examples: `python -m scripts.k8s.render DIR`.

Secrets come from git-ignored `secrets/*.env` files. Rendering happens in a temporary copy of the
kustomize tree without them, each filled from its committed `.env.example`: CI (a fresh clone)
can render, no filled-in secret reaches a check's output, and the working tree is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from scripts.k8s.paths import KUSTOMIZE_DIR

Manifest = dict[str, Any]


def render_text(kustomization: Path, tree: Path = KUSTOMIZE_DIR) -> str:
    """kubectl kustomize output for `kustomization`, a directory inside `tree`."""
    with tempfile.TemporaryDirectory(prefix="streamflow-k8s-") as tmp:
        copy = Path(tmp) / tree.name
        shutil.copytree(tree, copy, ignore=shutil.ignore_patterns("*.env"))
        for example in copy.rglob("*.env.example"):
            shutil.copyfile(example, example.with_suffix(""))
        target = copy / kustomization.resolve().relative_to(tree.resolve())
        command = [shutil.which("kubectl") or "kubectl", "kustomize", str(target)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {kustomization}: {result.stderr.strip()}")
    return result.stdout


def parse(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


if __name__ == "__main__":
    print(render_text(Path(sys.argv[1])), end="")
