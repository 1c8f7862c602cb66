"""Import a ``bench/<name>.py`` script as a module, for tests of its pure helpers.

``bench/`` holds scripts, not a package; each is loaded from its file under the module name
``bench_<name>`` and registered in ``sys.modules`` (dataclasses and pickling look it up there).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def bench_module(name: str) -> ModuleType:
    """``bench/<name>.py``, imported (once per call) as ``bench_<name>``."""
    module_name = f"bench_{name}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "bench" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
