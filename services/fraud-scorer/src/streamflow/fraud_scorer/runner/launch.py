"""Launch the scoring job with the PyFlink environment's interpreter.

The main workspace cannot import PyFlink (its pins clash), so the runner execs
``services/fraud-scorer/.venv/bin/python -m streamflow.fraud_scorer.fraud_job`` with that bin
directory first on ``PATH`` (thread mode needs it to find pemja) and the settings passed through
the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from streamflow.fraud_scorer.config import Settings
from streamflow.platform.settings import checkout_root

JOB_MODULE = "streamflow.fraud_scorer.fraud_job"


def flink_python(settings: Settings) -> Path:
    """The PyFlink environment's interpreter."""
    if settings.flink_python is not None:
        return settings.flink_python
    return checkout_root() / "services" / "fraud-scorer" / ".venv" / "bin" / "python"


def job_command(settings: Settings) -> list[str]:
    """The command line that runs the job in a local MiniCluster."""
    return [str(flink_python(settings)), "-m", JOB_MODULE]


def job_environment(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the PyFlink bin directory first on PATH."""
    env = dict(base)
    bin_dir = str(flink_python(settings).parent)
    path = env.get("PATH", "")
    env["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    env.setdefault("VIRTUAL_ENV", str(flink_python(settings).parent.parent))
    return env
