"""The scoring job on a standalone cluster: its Python runs in a TaskManager JVM of its own.

That is how the FlinkDeployment runs it on K3s, and unlike the MiniCluster there is no py4j
gateway next to the TaskManager's Python: anything in the job that calls the gateway at run time
fails here (it did: the state TTL's default RocksDB cleanup strategy, docs/adr/0044).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamflow.platform.settings import KafkaSettings, TopicSettings

from .conftest import JobProcess, TopicReader, produce_txns, recent
from .standalone import StandaloneCluster
from .test_fraud_job import by_tid, scenarios

pytestmark = [pytest.mark.integration, pytest.mark.flink]


@dataclass
class ClusterJob(JobProcess):
    """The job submitted with ``flink run`` (attached) to a standalone cluster."""

    cluster: StandaloneCluster | None = None

    def command(self) -> tuple[list[str], dict[str, str]]:
        assert self.cluster is not None
        env = {**self.env, "FLINK_CONF_DIR": str(self.cluster.root / "conf")}
        return self.cluster.run_command("streamflow.fraud_scorer.fraud_job"), env

    def alive(self) -> bool:
        """The client runs and no job failed: a task failure fails the test at once (the
        restart strategy would retry it forever)."""
        if not super().alive() or self.cluster is None:
            return False
        return not {"RESTARTING", "FAILING", "FAILED"} & set(self.cluster.job_states())

    def kill(self) -> None:
        """Cancel the job on the cluster (killing the attached client would leave it running),
        then kill the client."""
        if self.cluster is not None:
            self.cluster.cancel_all()
        super().kill()

    def log_tail(self) -> str:
        cluster = self.cluster.logs() if self.cluster is not None else ""
        return f"{super().log_tail()}\n--- cluster logs ---\n{cluster}"


@pytest.fixture
def cluster_job(job_env: dict[str, str], tmp_path: Path) -> Iterator[ClusterJob]:
    cluster = StandaloneCluster(tmp_path / "cluster", taskmanagers=1)
    try:
        cluster.start()
        job = ClusterJob(env=job_env, log_path=tmp_path / "job.log", cluster=cluster)
        yield job
        job.kill()
    finally:
        cluster.stop()


def test_the_job_scores_in_a_taskmanager_of_its_own(
    cluster_job: ClusterJob,
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
    reader: Callable[..., TopicReader],
) -> None:
    fraud, expected = scenarios(recent(minutes=24 * 60))
    produce_txns(kafka_settings, topics.transactions_raw, fraud)
    cluster_job.start()

    scored = reader(topics.transactions_scored)
    scored.poll_until(lambda values: len(values) >= len(fraud), cluster_job)
    assert len(by_tid(scored.values())) == len(fraud)
    alerts = reader(topics.fraud_alerts, 1)
    alerted = by_tid(alerts.poll_until(lambda v: set(expected) <= set(by_tid(v)), cluster_job))
    for tid, rule_ids in expected.items():
        assert rule_ids <= {rule["rule_id"] for rule in alerted[tid]["triggered_rules"]}
    metrics = reader(topics.metrics_realtime, 1)
    assert metrics.poll_until(lambda v: len(v) > 0, cluster_job)
