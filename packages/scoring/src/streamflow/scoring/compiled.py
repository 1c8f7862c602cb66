"""The scoring hot path compiled with mypyc, used only where a build of these very sources exists.

The PyFlink environment's setup (``scripts/build/scoring_native.py``) compiles the modules of
:data:`COMPILED_MODULES` to C extensions into a directory on ``sys.path`` (a ``.pth`` file) that
holds a marker module :data:`MARKER` with the sources' digest. :func:`activate` puts that
directory's extensions ahead of the ``.py`` files in the package's ``__path__`` when the digest
matches the sources next to them; with no build, or a build of other sources (an edited module,
a stale build), the package runs as plain Python and says so once in the log. The same sources
either way: the scorer's tests run compiled, the main environment's tests plain (docs/adr/0123).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import MutableSequence
from pathlib import Path

COMPILED_MODULES: tuple[str, ...] = (
    "context",
    "core",
    "customer_state",
    "features",
    "merchant_risk",
    "scoring",
    "state_config",
    "supervised_features",
    "view",
)
"""The modules of :mod:`streamflow.scoring` the build compiles (the per-event path). The tree
models (``trees``, ``model``, ``gbdt``) stay Python: their scoring functions are generated from
each model at load time."""

MARKER = "streamflow_scoring_native"
"""The build's marker module: ``DIGEST`` (of the sources it compiled) and ``MODULES_DIR``."""

log = logging.getLogger(__name__)


def source_digest(package_dir: Path) -> str:
    """SHA-256 over the compiled modules' names and source bytes in ``package_dir``."""
    digest = hashlib.sha256()
    for name in COMPILED_MODULES:
        digest.update(name.encode("ascii") + b"\0")
        digest.update((package_dir / f"{name}.py").read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def activate(package_path: MutableSequence[str], marker: str = MARKER) -> bool:
    """Put a current compiled build first in ``package_path`` (the package's ``__path__``).

    True if the build is used; False (plain Python) when there is none or it was built from
    other sources than those in ``package_path[0]``.
    """
    try:
        build = importlib.import_module(marker)
    except ImportError:
        return False
    package_dir = Path(package_path[0])
    try:
        current = source_digest(package_dir)
    except OSError:  # pragma: no cover - an installed package always has its sources
        return False
    if getattr(build, "DIGEST", None) != current:
        log.warning(
            "the compiled scoring modules at %s were built from other sources than %s: "
            "scoring runs as plain Python (re-run scripts/setup.d/51-scoring-native.sh)",
            getattr(build, "MODULES_DIR", marker),
            package_dir,
        )
        return False
    package_path.insert(0, str(build.MODULES_DIR))
    return True
