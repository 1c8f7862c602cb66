"""Shared fixtures: the rendered overlays, the broken fixture and the facts, once per session."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `scripts.k8s` is imported from the repository root
    sys.path.insert(0, str(REPO_ROOT))

from scripts.k8s.facts import facts as read_facts  # noqa: E402
from scripts.k8s.paths import OVERLAYS, overlay_dir  # noqa: E402
from scripts.k8s.render import Manifest, parse, render_text  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def rendered_text() -> dict[str, str]:
    return {name: render_text(overlay_dir(name)) for name in OVERLAYS}


@pytest.fixture(scope="session")
def overlays(rendered_text: dict[str, str]) -> dict[str, list[Manifest]]:
    return {name: parse(text) for name, text in rendered_text.items()}


@pytest.fixture(scope="session")
def facts() -> dict[str, Any]:
    """The policies' facts document for the real tree and docker-compose.test.yml."""
    return read_facts()


@pytest.fixture(scope="session")
def broken_facts() -> dict[str, Any]:
    return read_facts(FIXTURES / "broken", FIXTURES / "broken-compose.yml")


@pytest.fixture(scope="session")
def broken_text() -> str:
    """The broken-manifest fixture, rendered like an overlay."""
    return render_text(FIXTURES / "broken", tree=FIXTURES)
