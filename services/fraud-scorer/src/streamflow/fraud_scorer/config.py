"""Settings of the fraud scorer's PyFlink job and its local runner (``STREAMFLOW_SCORER_*``).

The same settings drive the job in a local MiniCluster (``streamflow-scorer run``) and in the
Kubernetes FlinkDeployment (``python -m streamflow.fraud_scorer.fraud_job``). Kafka and topic names
come from the shared ``STREAMFLOW_KAFKA_*`` / ``STREAMFLOW_TOPIC_*`` settings; the Flink
environment's jars and log directory are fields here too, read under their ``STREAMFLOW_FLINK_*``
names (the image, the manifests and the fault scripts set those).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from streamflow.events import policy
from streamflow.fraud_scorer.environment import CHECKPOINT_INTERVAL_MS
from streamflow.platform.settings import ServiceSettings, checkout_root, local_dir
from streamflow.scoring.model import DEFAULT_MODEL_PATH


class AlertDelivery(StrEnum):
    """How ``fraud.alerts`` is written (see docs/adr/0046-delivery-guarantees.md)."""

    EXACTLY_ONCE = "exactly_once"
    AT_LEAST_ONCE = "at_least_once"


def default_checkpoint_dir() -> str:
    """``file://<local dir>/flink/scorer-checkpoints`` (absolute, as Flink wants a URI)."""
    return (local_dir().resolve() / "flink" / "scorer-checkpoints").as_uri()


def default_model_path() -> Path:
    """The committed anomaly model of this checkout (``models/anomaly-iforest.npz``, absolute)."""
    return checkout_root() / DEFAULT_MODEL_PATH


class Settings(ServiceSettings):
    """Everything the scoring job reads at start-up."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_SCORER_", extra="ignore")

    job_name: str = Field(default="streamflow-fraud-scorer", min_length=1)
    group_id: str = Field(default="streamflow-scorer", min_length=1, description="Kafka group.")
    transactional_id_prefix: str = Field(
        default="streamflow-scorer", min_length=1, description="Per-sink suffixes are added."
    )
    checkpoint_dir: str = Field(
        default_factory=default_checkpoint_dir,
        description="Checkpoint storage URI (file:///..., s3://... on K3s).",
    )
    checkpoint_interval_ms: int = Field(
        default=CHECKPOINT_INTERVAL_MS,
        ge=100,
        description="How often state is checkpointed and the exactly-once sinks commit: scored "
        "records become readable at each commit (docs/adr/0131).",
    )
    restore: Literal["latest", "none"] = Field(
        default="latest", description="Resume from the newest retained chk-* under checkpoint_dir."
    )
    restore_path: str | None = Field(
        default=None, description="An explicit checkpoint/savepoint to resume from."
    )
    allow_non_restored_state: bool = Field(
        default=False,
        description="Restore even when the checkpoint holds state of operators the job no longer "
        "has (Flink's ignore-unclaimed-state): for one upgrade across a graph change, never by "
        "default (docs/RUNBOOK.md).",
    )
    parallelism: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Job parallelism. On K3s it must equal the FlinkDeployment's job.parallelism "
        "(a render test checks it); in thread mode each TaskManager's instances share one GIL, "
        "so more than one per TaskManager adds no throughput (docs/adr/0049).",
    )
    execution_mode: Literal["thread", "process"] = "thread"
    bundle_size: int = Field(default=1000, ge=1, description="python.fn-execution.bundle.size")
    bundle_time_ms: int = Field(default=100, ge=1, description="python.fn-execution.bundle.time")
    state_backend: Literal["rocksdb", "hashmap"] = "rocksdb"
    watermark_out_of_orderness_ms: int = Field(default=5000, ge=0)
    max_future_seconds: int = Field(
        default=int(policy.MAX_FUTURE_SKEW.total_seconds()),
        ge=0,
        description="How far ahead of the scorer's clock an event time may be. The default is "
        "the validation policy's (streamflow.events.policy.MAX_FUTURE_SKEW), which the warehouse "
        "mirrors; another value is an override that makes the scorer and silver disagree "
        "(docs/adr/0059), and the job logs a warning when it starts with one.",
    )
    model_path: Path | None = Field(
        default_factory=default_model_path,
        description="Anomaly model (default: the checkout's models/anomaly-iforest.npz; the "
        "image sets its own copy). No file there = rules only, with a warning in the log.",
    )
    card_sweep_every: int = Field(
        default=1024,
        ge=1,
        description="Every this many feedback records, drop the cards whose labels no longer "
        "change any feature (newest label over a year and 30 days behind the newest report).",
    )
    hot_customers: int = Field(
        default=100_000,
        ge=0,
        description="Customers whose latest scoring state the job keeps in memory "
        "(least recently active out first): their next event skips the state read from "
        "RocksDB. Flink's state is written on every event either way; 0 reads it every time "
        "(docs/adr/0126).",
    )
    hot_merchants: int = Field(
        default=20_000,
        ge=0,
        description="Merchants whose day buckets the merchant-traffic operator keeps in the "
        "JVM's memory (least recently active out first): their records neither read nor write "
        "Flink's state, which gets every changed merchant before each checkpoint. ~0.6 KB of "
        "heap each; 0 reads and writes the state on every record (docs/adr/0128).",
    )
    supervised_model_path: Path | None = Field(
        default=None,
        description="Starter supervised model (.npz) scored as the current model until a "
        "release to the current slot arrives on fraud.models (docs/adr/0063). Shipped "
        "deployments set the committed models/fraud-gbdt.npz (scripts/services/scorer.sh, the "
        "image); unset = no supervised model until a release.",
    )
    rules_file: Path | None = Field(
        default=None, description="Initial rule set (RuleSet JSON) used before fraud.rules."
    )
    blacklist_file: Path | None = Field(default=None, description="Blacklist JSON for defaults.")
    alert_delivery: AlertDelivery = AlertDelivery.AT_LEAST_ONCE
    kafka_transaction_timeout_ms: int = Field(
        default=3_600_000,
        ge=10_000,
        description="Kafka transaction timeout of the exactly-once sinks: the longest scorer or "
        "broker outage that loses nothing (docs/adr/0092); at most the broker's "
        "transaction.max.timeout.ms (scripts/infra/kafka.sh, the Strimzi Kafka CR).",
    )
    metrics_port: int = Field(default=9102, ge=1, le=65535)
    jvm_heap: str = Field(default="512m", pattern=r"^\d+[mg]$", description="MiniCluster heap.")
    managed_memory: str = Field(default="128m", pattern=r"^\d+[mg]$")
    connector_jar: Path | None = Field(
        default=None,
        validation_alias="STREAMFLOW_FLINK_CONNECTOR_JAR",
        description="The shaded Kafka connector jar on pipeline.jars (default: the newest "
        "flink-sql-connector-kafka-*.jar under $STREAMFLOW_LOCAL_DIR/lib/flink, from setup).",
    )
    java_jar: Path | None = Field(
        default=None,
        validation_alias="STREAMFLOW_FLINK_JAVA_JAR",
        description="The job's Java helpers (services/fraud-scorer/java) on pipeline.jars "
        "(default: $STREAMFLOW_LOCAL_DIR/lib/flink-java/streamflow-flink-java.jar, from setup).",
    )
    flink_log_dir: Path | None = Field(
        default=None,
        validation_alias="STREAMFLOW_FLINK_LOG_DIR",
        description="Flink's logs, exported as FLINK_LOG_DIR (default: "
        "$STREAMFLOW_LOCAL_DIR/flink/logs).",
    )
    flink_rest_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        validation_alias="STREAMFLOW_FLINK_REST_PORT",
        description="The MiniCluster's REST port (rest.bind-port; default: a free one, which "
        "the local job picks itself so that its TaskManager watchdog can ask it).",
    )
    flink_python: Path | None = Field(
        default=None,
        description="Python of the PyFlink env (default services/fraud-scorer/.venv).",
    )

    def policy_override(self) -> str | None:
        """Why the scorer will judge differently from the warehouse, or None (no override)."""
        policy_s = int(policy.MAX_FUTURE_SKEW.total_seconds())
        if self.max_future_seconds == policy_s:
            return None
        return (
            f"STREAMFLOW_SCORER_MAX_FUTURE_SECONDS={self.max_future_seconds} overrides the "
            f"validation policy's {policy_s} s: the warehouse still rejects transactions more "
            f"than {policy_s} s ahead (docs/adr/0059)"
        )
