"""The reference ladder's rung jobs (``bench/ladder_job.py``) still build against the job.

The ladder imports the job's own wiring (issue #20, docs/adr/0081), so a change to the job can
break a rung; ``make bench`` would find out only after minutes of other benchmarks (the L4 rung
did break once when the job's sinks gained uids). Building each rung's graph catches that here;
the rungs' speed is for ``make bench``, never for tests.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from streamflow.fraud_scorer.config import Settings
from streamflow.fraud_scorer.environment import build_environment

from .conftest import local_flink

ROOT = Path(__file__).resolve().parents[3]


def ladder_job() -> ModuleType:
    """``bench/ladder_job.py`` as a module (bench/ holds scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_ladder_job", ROOT / "bench/ladder_job.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.flink
def test_every_rung_builds_its_job_graph(tmp_path: Path) -> None:
    flink = local_flink(tmp_path)
    ladder = ladder_job()
    names: dict[str, set[str]] = {}
    for rung in ladder.RUNGS:
        env = build_environment(flink)
        ladder.build_rung(env, Settings(), rung)
        plan = json.loads(env.get_execution_plan())
        names[rung] = {node["contents"] for node in plan["nodes"]}
    assert all(any("kafka:" in n for n in rung_names) for rung_names in names.values())
    assert any("merchant-traffic" in n for n in names["L0m"])
    assert any("ladder-L3" in n for n in names["L3"])
    assert any("merchant-traffic" in n for n in names["L3m"])
    assert any("ladder-L3b" in n for n in names["L3b"])
    assert any("kafka:" in n and "rules" in n for n in names["L3b"])
    assert "score" in names["L4"]
    assert any("store-windows-json" in n for n in names["L5"])
    assert not any("store-windows-json" in n for n in names["L4"])
