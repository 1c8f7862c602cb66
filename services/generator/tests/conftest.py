"""Shared fixtures: one medium simulated data set, built once per test session."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from streamflow.generator.batch import Batch
from streamflow.generator.engine import RunSpec, Simulator, local_midnight_ms
from streamflow.generator.reference import Reference, build_reference
from streamflow.generator.scenarios import ScenarioConfig

SEED = 11
COUNT = 60_000


@dataclass
class Simulated:
    ref: Reference
    chunks: list[Batch]
    batch: Batch
    start_ms: int
    seed: int = SEED


@pytest.fixture(scope="session")
def simulated() -> Simulated:
    ref = build_reference(SEED, 2_500)
    start = local_midnight_ms("2026-10-01")
    spec = RunSpec(seed=SEED, count=COUNT, days=30, start_ms=start, late_rate=0.01)
    chunks = list(Simulator(ref, ScenarioConfig(), spec).chunks())
    return Simulated(ref, chunks, Batch.concat(chunks), start)


def by_seq(batch: Batch) -> Batch:
    return batch.take(np.argsort(batch.seq, kind="stable"))
