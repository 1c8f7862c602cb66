"""No app imports another app's internals: apps share code only through ``packages/``.

Walks the imports of every module of every app (``services/*`` and the scoring job) with ``ast``
and fails naming the module and the import. The scoring job (``flink_jobs``) is part of the
fraud-scorer app: it is what the fraud-scorer image runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = {"events", "platform"}
"""``streamflow.<name>`` packages every app may import (``packages/``)."""


def _apps() -> dict[str, list[Path]]:
    """App name -> the source roots of its ``streamflow.<package>`` packages."""
    apps: dict[str, list[Path]] = {}
    for service in sorted((REPO / "services").iterdir()):
        roots = sorted(p for p in (service / "src" / "streamflow").glob("*") if p.is_dir())
        if roots:
            apps[service.name] = roots
    apps["fraud-scorer"].append(REPO / "flink_jobs" / "src" / "streamflow" / "flink_jobs")
    return apps


def _owner(apps: dict[str, list[Path]]) -> dict[str, str]:
    return {root.name: app for app, roots in apps.items() for root in roots}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n.split(".")[1] for n in names if n.startswith("streamflow.") and n.count(".") >= 1}


def test_no_app_imports_another_apps_package() -> None:
    apps = _apps()
    owner = _owner(apps)
    problems = []
    for app, roots in apps.items():
        for root in roots:
            for module in sorted(root.rglob("*.py")):
                for package in sorted(_imported(module)):
                    if package in SHARED or owner.get(package, app) == app:
                        continue
                    rel = module.relative_to(REPO)
                    problems.append(
                        f"{rel} ({app}) imports streamflow.{package} ({owner[package]})"
                    )
    assert not problems, "\n".join(problems)


def test_the_walk_sees_every_app() -> None:
    assert set(_apps()) >= {"alert-api", "fraud-scorer", "generator", "ingestor"}
    assert _imported(
        REPO / "flink_jobs" / "src" / "streamflow" / "flink_jobs" / "functions.py"
    ) >= {
        "events",
        "scorer",
    }
