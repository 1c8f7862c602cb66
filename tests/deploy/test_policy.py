"""Policy checks pass on both overlays; secrets come only from generators with empty examples."""

from __future__ import annotations

import pytest

from scripts.k8s import policy
from scripts.k8s.paths import KUSTOMIZE_DIR, OVERLAYS
from scripts.k8s.problems import Manifest
from scripts.k8s.secret_sources import check_tree


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_policies(overlay: str, overlays: dict[str, list[Manifest]]) -> None:
    problems = policy.check_all(overlays[overlay])
    assert not problems, "\n".join(map(str, problems))


def test_prod_runs_at_least_two_replicas(overlays: dict[str, list[Manifest]]) -> None:
    problems = policy.min_replicas_problems(overlays["prod"], 2)
    assert not problems, "\n".join(map(str, problems))


def test_secrets_only_from_generators_with_empty_examples() -> None:
    problems = check_tree(KUSTOMIZE_DIR)
    assert not problems, "\n".join(map(str, problems))


def test_secret_env_files_are_git_ignored() -> None:
    gitignore = (KUSTOMIZE_DIR.parents[1] / ".gitignore").read_text().splitlines()
    assert "k8s/kustomize/**/secrets/*.env" in gitignore
