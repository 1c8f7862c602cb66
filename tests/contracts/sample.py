"""A small generated data set: batch, fast-JSON Kafka values and keys, and the generator's files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamflow.generator.batch import Batch
from streamflow.generator.encoding import IdTables, encode_batch
from streamflow.generator.engine import RunSpec, Simulator, local_midnight_ms
from streamflow.generator.files import FileOutputs
from streamflow.generator.reference import build_reference
from streamflow.generator.scenarios import ScenarioConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = 5


@dataclass(frozen=True)
class Generated:
    """Generated transactions: the batch, its Kafka values/keys (batch order) and its files."""

    batch: Batch
    values: list[bytes]
    keys: list[bytes]
    parquet: Path
    """The ``--out`` file (transactions only), rows in batch order."""
    labelled: Path
    """The ``--labelled-out`` file (transactions plus label and scenario), rows in batch order."""


def generate(directory: Path, count: int = 4_000) -> Generated:
    """Simulate ``count`` transactions at a 10% fraud rate and write them as the CLI would."""
    ref = build_reference(SEED, 300)
    spec = RunSpec(seed=SEED, count=count, days=3, start_ms=local_midnight_ms("2026-10-01"))
    batch = Batch.concat(list(Simulator(ref, ScenarioConfig().scaled(0.1), spec).chunks()))
    ids = IdTables.build(ref, SEED)
    values, keys = encode_batch(batch, ids)
    parquet, labelled = directory / "tx.parquet", directory / "labelled.parquet"
    files = FileOutputs(str(parquet), None, str(labelled))
    files.write(batch, ids, values)
    files.close()
    return Generated(batch, values, keys, parquet, labelled)
