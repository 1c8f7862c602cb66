"""No app imports another app's internals: apps share code only through ``packages/``.

Walks the imports of every module of every app (``services/*``) with ``ast`` and fails naming the
module and the import. The fraud scorer (the PyFlink job) and the fraud lab (backtest, training,
rule and model tools) both build on ``streamflow.scoring``; neither may import the other
(docs/adr/0120). The test harness (``packages/testkit``: fixtures, accounting) is dev only: no
shipped member imports it or pytest from its ``src/``, or declares it as a dependency.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = {"events", "platform", "scoring"}
"""``streamflow.<name>`` packages every app may import (``packages/``)."""
HARNESS = ("streamflow.testkit", "pytest", "_pytest")
"""Modules only tests may import: the dev-only test kit and pytest itself."""


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


def _shipped_members() -> list[Path]:
    """Every workspace member that ships (libraries and apps): all but the test kit."""
    members = sorted(REPO.glob("packages/*/pyproject.toml")) + sorted(
        REPO.glob("services/*/pyproject.toml")
    )
    return [m.parent for m in members if m.parent != REPO / "packages" / "testkit"]


def _module_names(path: Path) -> set[str]:
    """Every absolute module an ``import`` or ``from ... import`` of ``path`` names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _harness_imports(members: list[Path], base: Path = REPO) -> list[str]:
    problems = []
    for member in members:
        for module in sorted((member / "src").rglob("*.py")):
            for name in sorted(_module_names(module)):
                if any(name == h or name.startswith(h + ".") for h in HARNESS):
                    problems.append(f"{module.relative_to(base)} imports {name}")
    return problems


def test_no_shipped_member_imports_the_test_harness() -> None:
    problems = _harness_imports(_shipped_members())
    assert not problems, "\n".join(problems)


def test_no_shipped_member_depends_on_the_test_kit() -> None:
    """Only dev groups name streamflow-testkit: never a member's (or the root's) dependencies."""
    for member in [REPO, *_shipped_members()]:
        project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
        shipped = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            shipped += extra
        assert not [d for d in shipped if d.startswith("streamflow-testkit")], member


def test_the_harness_walk_sees_every_shipped_member() -> None:
    names = {str(m.relative_to(REPO)) for m in _shipped_members()}
    assert names >= {
        "packages/events",
        "packages/platform",
        "packages/scoring",
        "services/alert-api",
        "services/fraud-lab",
        "services/fraud-scorer",
        "services/generator",
        "services/ingestor",
    }
    assert "packages/testkit" not in names
    testkit = REPO / "packages" / "testkit" / "src" / "streamflow" / "testkit"
    assert (testkit / "fixtures.py").is_file()


def test_a_shipped_import_of_the_harness_fails(tmp_path: Path) -> None:
    """The check itself: pytest or the test kit imported from a member's src/ is reported."""
    src = tmp_path / "lib" / "src" / "streamflow" / "lib"
    src.mkdir(parents=True)
    (src / "a.py").write_text("import pytest\n")
    (src / "b.py").write_text("from streamflow.testkit.fixtures import topics\n")
    (src / "c.py").write_text("from _pytest.monkeypatch import MonkeyPatch\nimport pytest_cov\n")
    assert _harness_imports([tmp_path / "lib"], tmp_path) == [
        "lib/src/streamflow/lib/a.py imports pytest",
        "lib/src/streamflow/lib/b.py imports streamflow.testkit.fixtures",
        "lib/src/streamflow/lib/c.py imports _pytest.monkeypatch",
    ]
