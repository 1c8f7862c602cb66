"""Compile the scoring core's per-event modules with mypyc into the running Python environment.

Run by the PyFlink environment's interpreter (its ``native`` dependency group holds mypy and
setuptools): ``services/fraud-scorer/.venv/bin/python scripts/build/scoring_native.py``. Setup
step 51 and the scorer image run it. It compiles a copy of the installed ``streamflow.scoring``
sources (:data:`streamflow.scoring.compiled.COMPILED_MODULES`) in a temporary directory, puts the
extensions in ``<site-packages>/streamflow-scoring-native/`` with a marker module holding the
sources' digest, adds that directory to ``sys.path`` with a ``.pth`` file and checks that a fresh
interpreter loads them. Nothing is written into the source tree (docs/adr/0123).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path

BUILD_DIR_NAME = "streamflow-scoring-native"
PTH_NAME = "streamflow_scoring_native.pth"


def _package_dir(name: str) -> Path:
    """The directory of an installed package (without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"scoring_native: package {name} is not installed in {sys.executable}")
    return Path(next(iter(spec.submodule_search_locations)))


def _compiled_api(scoring_dir: Path) -> tuple[tuple[str, ...], str, Callable[[Path], str]]:
    """COMPILED_MODULES, MARKER and source_digest from the installed package's own module."""
    spec = importlib.util.spec_from_file_location("_scoring_compiled", scoring_dir / "compiled.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.COMPILED_MODULES, module.MARKER, module.source_digest


def build(out: Path, pth_dir: Path) -> None:
    """Compile into ``out`` and point ``pth_dir``'s ``.pth`` at it."""
    scoring_dir = _package_dir("streamflow.scoring")
    events_dir = _package_dir("streamflow.events")
    modules, marker, source_digest = _compiled_api(scoring_dir)
    digest = source_digest(scoring_dir)
    with tempfile.TemporaryDirectory(prefix="scoring-native-") as tmp:
        src = Path(tmp) / "src"
        # the whole package and the contracts, so mypy types the compiled modules' imports
        shutil.copytree(scoring_dir, src / "streamflow" / "scoring", ignore=_no_caches)
        shutil.copytree(events_dir, src / "streamflow" / "events", ignore=_no_caches)
        files = [f"streamflow/scoring/{name}.py" for name in modules]
        env = {**os.environ, "MYPYPATH": str(src), "MYPYC_OPT_LEVEL": "3"}
        command = [
            sys.executable,
            "-m",
            "mypyc",
            "--explicit-package-bases",
            "--namespace-packages",
            *files,
        ]
        done = subprocess.run(  # noqa: S603 - this interpreter's mypyc on our own sources
            command, cwd=src, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            sys.exit(f"scoring_native: mypyc failed (exit {done.returncode})")
        staging = out.with_name(out.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "modules").mkdir(parents=True)
        for lib in src.glob("*__mypyc*.so"):
            shutil.copy2(lib, staging / lib.name)
        built = sorted((src / "streamflow" / "scoring").glob("*.so"))
        if len(built) != len(modules):
            sys.exit(f"scoring_native: expected {len(modules)} extensions, mypyc made {built}")
        for ext in built:
            shutil.copy2(ext, staging / "modules" / ext.name)
    (staging / f"{marker}.py").write_text(
        '"""The compiled scoring modules (scripts/build/scoring_native.py); do not edit."""\n\n'
        "from pathlib import Path\n\n"
        f'DIGEST = "{digest}"\n'
        'MODULES_DIR = str(Path(__file__).parent / "modules")\n',
        encoding="utf-8",
    )
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    (pth_dir / PTH_NAME).write_text(f"{out}\n", encoding="utf-8")
    check = subprocess.run(
        [sys.executable, "-c", "import streamflow.scoring as s; raise SystemExit(not s.COMPILED)"],
        check=False,
    )
    if check.returncode != 0:
        sys.exit("scoring_native: built, but a fresh interpreter does not load the build")


def _no_caches(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".so", ".pyc"))}


def main() -> None:
    """Build into this environment's site-packages (or ``--out``)."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=purelib / BUILD_DIR_NAME)
    args = parser.parse_args()
    build(args.out.resolve(), purelib)
    print(f"scoring_native: compiled streamflow.scoring modules into {args.out}")


if __name__ == "__main__":
    main()
