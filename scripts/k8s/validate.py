"""Run every offline deployment check and print the problems: `python -m scripts.k8s.validate`.

Renders both overlays, validates built-in objects against the Kubernetes schemas and custom
resources against their CRDs, applies the policy checks, runs promtool on the rules and
dashboards, hadolint on the Dockerfiles, and checks docker-compose.test.yml. Exit 1 on problems.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.k8s import (
    compose,
    crd_schema,
    dockerfiles,
    kube_schema,
    policy,
    promrules,
    settings_env,
)
from scripts.k8s.paths import COMPOSE_FILE, KUSTOMIZE_DIR, OVERLAYS, overlay_dir
from scripts.k8s.paths import dockerfiles as project_dockerfiles
from scripts.k8s.problems import Manifest, Problem
from scripts.k8s.render import RenderError, render
from scripts.k8s.secret_sources import check_tree


def manifest_problems(objs: list[Manifest]) -> list[Problem]:
    """Schema, CRD, policy and promtool problems of one rendered kustomization."""
    schemas = crd_schema.default_crds()
    return [
        *kube_schema.validate_all(objs, crd_schema.custom_kinds(schemas)),
        *crd_schema.validate_all(objs, schemas),
        *policy.check_all(objs),
        *promrules.check_all(objs),
        *settings_env.check_all(objs),
    ]


def overlay_problems(name: str) -> list[Problem]:
    try:
        objs = render(overlay_dir(name))
    except RenderError as err:
        return [Problem("render", name, str(err))]
    found = manifest_problems(objs)
    if name == "prod":
        found += policy.min_replicas_problems(objs, 2)
    return found


def all_problems(dockerfile_paths: list[Path]) -> list[Problem]:
    found = [p for name in OVERLAYS for p in overlay_problems(name)]
    found += check_tree(KUSTOMIZE_DIR)
    found += [p for path in dockerfile_paths for p in dockerfiles.lint(path)]
    found += compose.check(COMPOSE_FILE)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.parse_args(argv)
    problems = all_problems(project_dockerfiles())
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
