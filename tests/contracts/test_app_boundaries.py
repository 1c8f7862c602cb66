"""No app imports another app's internals: apps share code only through ``packages/``.

Walks the imports of every module of every app (``services/*``) with ``ast`` and fails naming the
module and the import. The fraud scorer (the PyFlink job) and the fraud lab (backtest, training,
rule and model tools) both build on ``streamflow.scoring``; neither may import the other
(docs/adr/0120).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = {"events", "platform", "scoring"}
"""``streamflow.<name>`` packages every app may import (``packages/``)."""


def _apps() -> dict[str, list[Path]]:
    """App name -> the source roots of its ``streamflow.<package>`` packages."""
    apps: dict[str, list[Path]] = {}
    for service in sorted((REPO / "services").iterdir()):
        roots = sorted(p for p in (service / "src" / "streamflow").glob("*") if p.is_dir())
        if roots:
            apps[service.name] = roots
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


def _problems(apps: dict[str, list[Path]], base: Path = REPO) -> list[str]:
    owner = _owner(apps)
    problems = []
    for app, roots in apps.items():
        for root in roots:
            for module in sorted(root.rglob("*.py")):
                for package in sorted(_imported(module)):
                    if package in SHARED or owner.get(package, app) == app:
                        continue
                    rel = module.relative_to(base)
                    problems.append(
                        f"{rel} ({app}) imports streamflow.{package} ({owner[package]})"
                    )
    return problems


def test_no_app_imports_another_apps_package() -> None:
    problems = _problems(_apps())
    assert not problems, "\n".join(problems)


def test_the_walk_sees_every_app() -> None:
    apps = _apps()
    assert set(apps) >= {"alert-api", "fraud-lab", "fraud-scorer", "generator", "ingestor"}
    assert [root.name for root in apps["fraud-scorer"]] == ["fraud_scorer"]
    assert [root.name for root in apps["fraud-lab"]] == ["lab"]
    functions = REPO / "services" / "fraud-scorer" / "src" / "streamflow" / "fraud_scorer"
    assert _imported(functions / "functions.py") >= {"events", "scoring"}
    lab = REPO / "services" / "fraud-lab" / "src" / "streamflow" / "lab"
    assert _imported(lab / "backtest.py") >= {"events", "scoring"}


def test_the_scoring_package_is_no_app() -> None:
    """The core is a library: it imports no app, and no app owns its name."""
    owner = _owner(_apps())
    assert not SHARED & set(owner)
    core = REPO / "packages" / "scoring" / "src" / "streamflow" / "scoring"
    for module in sorted(core.rglob("*.py")):
        assert _imported(module) <= SHARED, module.relative_to(REPO)


def test_a_lab_import_of_the_scorer_fails(tmp_path: Path) -> None:
    """The check itself: the lab importing the scorer service, or the reverse, is reported."""
    lab, scorer = tmp_path / "lab", tmp_path / "fraud_scorer"
    lab.mkdir()
    scorer.mkdir()
    (lab / "tool.py").write_text("from streamflow.fraud_scorer.config import Settings\n")
    (scorer / "job.py").write_text("import streamflow.lab.backtest\n")
    problems = _problems({"fraud-lab": [lab], "fraud-scorer": [scorer]}, tmp_path)
    assert problems == [
        "lab/tool.py (fraud-lab) imports streamflow.fraud_scorer (fraud-scorer)",
        "fraud_scorer/job.py (fraud-scorer) imports streamflow.lab (fraud-lab)",
    ]
