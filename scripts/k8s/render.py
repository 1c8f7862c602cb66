"""Render a kustomization with `kubectl kustomize` into a list of manifests.

Secrets come from git-ignored `secrets/*.env` files. Rendering happens in a temporary copy of
the kustomize tree in which every missing `.env` is filled from its committed `.env.example`, so
CI (a fresh clone) can render and the working tree is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from scripts.k8s.paths import KUSTOMIZE_DIR

Manifest = dict[str, Any]


class RenderError(RuntimeError):
    """kubectl kustomize failed."""


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise RenderError("kubectl not found: it renders the overlays (kubectl kustomize)")
    return found


def fill_env_files(tree: Path) -> None:
    """Create each missing `X.env` from `X.env.example` below `tree`."""
    for example in tree.rglob("*.env.example"):
        target = example.with_suffix("")
        if not target.exists():
            shutil.copyfile(example, target)


def render_text(kustomization: Path, tree: Path = KUSTOMIZE_DIR) -> str:
    """kubectl kustomize output for `kustomization`, a directory inside `tree`."""
    with tempfile.TemporaryDirectory(prefix="streamflow-k8s-") as tmp:
        copy = Path(tmp) / tree.name
        shutil.copytree(tree, copy)
        fill_env_files(copy)
        target = copy / kustomization.resolve().relative_to(tree.resolve())
        result = subprocess.run(  # noqa: S603 - kubectl on a directory we copied
            [kubectl(), "kustomize", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {kustomization}: {result.stderr.strip()}")
    return result.stdout


def parse(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(kustomization: Path, tree: Path = KUSTOMIZE_DIR) -> list[Manifest]:
    return parse(render_text(kustomization, tree))
