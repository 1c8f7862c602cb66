"""Secrets never live in the repository: no Secret manifests, every secretGenerator reads a
git-ignored `secrets/*.env` with a committed `.env.example` whose secret values are empty."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from scripts.k8s.problems import Problem

CHECK = "secrets"
NOT_SECRET = re.compile(r"(^|[-_])(user|username|admin-user)$", re.IGNORECASE)


def _kustomizations(tree: Path) -> list[Path]:
    return sorted(tree.rglob("kustomization.yaml"))


def _example_problems(example: Path) -> list[Problem]:
    found = []
    for number, line in enumerate(example.read_text().splitlines(), start=1):
        key, sep, value = line.partition("=")
        if line.startswith("#") or not sep or NOT_SECRET.search(key.strip()):
            continue
        if value.strip():
            found.append(
                Problem(CHECK, f"{example}:{number}", f"{key} has a value; leave it empty")
            )
    return found


def check_tree(tree: Path) -> list[Problem]:
    found = []
    for manifest in sorted(tree.rglob("*.yaml")):
        for doc in yaml.safe_load_all(manifest.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                found.append(
                    Problem(CHECK, str(manifest), "a literal Secret; use a secretGenerator")
                )
    for kustomization in _kustomizations(tree):
        spec = yaml.safe_load(kustomization.read_text()) or {}
        for generator in spec.get("secretGenerator") or []:
            if generator.get("literals"):
                found.append(
                    Problem(CHECK, str(kustomization), f"{generator['name']}: literals; use envs")
                )
            for env in generator.get("envs") or []:
                path = kustomization.parent / env
                if path.parent.name != "secrets" or path.suffix != ".env":
                    found.append(Problem(CHECK, str(path), "secret env files go in secrets/*.env"))
                example = path.with_name(path.name + ".example")
                if not example.is_file():
                    found.append(Problem(CHECK, str(path), f"no committed {example.name}"))
                else:
                    found += _example_problems(example)
    return found
