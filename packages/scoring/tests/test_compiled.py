"""The compiled build is used only when it was built from the sources beside it."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

import streamflow.scoring
from streamflow.scoring.compiled import COMPILED_MODULES, activate, source_digest

PACKAGE_DIR = Path(streamflow.scoring.__file__).parent


def _copy_sources(to: Path) -> Path:
    to.mkdir()
    for name in COMPILED_MODULES:
        shutil.copy(PACKAGE_DIR / f"{name}.py", to / f"{name}.py")
    return to


def _marker(at: Path, name: str, digest: str) -> Path:
    modules = at / "modules"
    modules.mkdir(parents=True)
    (at / f"{name}.py").write_text(f'DIGEST = "{digest}"\nMODULES_DIR = {str(modules)!r}\n')
    return modules


def test_the_digest_follows_every_compiled_module(tmp_path: Path) -> None:
    sources = _copy_sources(tmp_path / "pkg")
    before = source_digest(sources)
    assert before == source_digest(PACKAGE_DIR)
    with (sources / "scoring.py").open("a") as f:
        f.write("\n# edited\n")
    assert source_digest(sources) != before


def test_no_build_means_plain_python(tmp_path: Path) -> None:
    path = [str(PACKAGE_DIR)]
    assert activate(path, marker="streamflow_scoring_native_absent") is False
    assert path == [str(PACKAGE_DIR)]


def test_a_build_of_these_sources_goes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = _marker(tmp_path, "sf_native_current", source_digest(PACKAGE_DIR))
    monkeypatch.syspath_prepend(str(tmp_path))
    path = [str(PACKAGE_DIR)]
    assert activate(path, marker="sf_native_current") is True
    assert path == [str(modules), str(PACKAGE_DIR)]


def test_a_build_of_other_sources_is_ignored_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _marker(tmp_path, "sf_native_stale", "0" * 64)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = [str(PACKAGE_DIR)]
    with caplog.at_level(logging.WARNING, logger="streamflow.scoring.compiled"):
        assert activate(path, marker="sf_native_stale") is False
    assert path == [str(PACKAGE_DIR)]
    assert "built from other sources" in caplog.text
    assert "plain Python" in caplog.text
