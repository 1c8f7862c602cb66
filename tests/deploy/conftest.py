"""Shared fixtures: the rendered overlays and the CRD schemas, computed once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `scripts.k8s` is imported from the repository root
    sys.path.insert(0, str(REPO_ROOT))

from scripts.k8s import crd_schema  # noqa: E402
from scripts.k8s.paths import OVERLAYS, overlay_dir  # noqa: E402
from scripts.k8s.problems import Manifest  # noqa: E402
from scripts.k8s.render import render, render_text  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def rendered_text() -> dict[str, str]:
    return {name: render_text(overlay_dir(name)) for name in OVERLAYS}


@pytest.fixture(scope="session")
def overlays(rendered_text: dict[str, str]) -> dict[str, list[Manifest]]:
    from scripts.k8s.render import parse

    return {name: parse(text) for name, text in rendered_text.items()}


@pytest.fixture(scope="session")
def crds() -> dict[crd_schema.GroupVersionKind, crd_schema.Schema]:
    return crd_schema.default_crds()


@pytest.fixture(scope="session")
def broken() -> list[Manifest]:
    """The broken-manifest fixture, rendered like an overlay."""
    return render(FIXTURES / "broken", tree=FIXTURES)
