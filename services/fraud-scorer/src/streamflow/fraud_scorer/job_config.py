"""Flink options of the scoring job, derived from the scorer's one ``Settings`` object.

The generic MiniCluster set-up (connector jar, thread mode, JVM cap, logs) is
:class:`.environment.FlinkEnvironmentSettings`; this module fills it from ``Settings`` (local
defaults for unset jars and logs) and adds what the scoring job needs on top: the checkpoint URI,
externalized checkpoints kept on cancellation, the restore path, bundle sizes and memory caps.
"""

from __future__ import annotations

import dataclasses

from streamflow.fraud_scorer.config import Settings
from streamflow.fraud_scorer.environment import FlinkEnvironmentSettings
from streamflow.fraud_scorer.runner.checkpoints import latest_checkpoint, local_path
from streamflow.platform.settings import local_dir


def restore_path(settings: Settings) -> str | None:
    """What to resume from: the explicit path, else the newest retained checkpoint."""
    if settings.restore_path:
        return settings.restore_path
    if settings.restore == "latest":
        found = latest_checkpoint(settings.checkpoint_dir)
        return found.resolve().as_uri() if found is not None else None
    return None


CANCELLATION_MARGIN_MS = 120_000
"""How much longer than a sink's longest blocking Kafka call a task cancellation may take."""


def job_options(settings: Settings, restore_from: str | None) -> dict[str, str]:
    """Flink configuration entries of the scoring job."""
    options = {
        "pipeline.name": settings.job_name,
        "execution.checkpointing.dir": settings.checkpoint_dir,
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        # Keep checkpoints when the job is cancelled or killed, so a restart can resume.
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "2",
        "execution.checkpointing.min-pause": f"{max(settings.checkpoint_interval_ms // 4, 50)} ms",
        "state.backend.incremental": "true",
        # A cancelled task closes its Kafka writers, which may wait out a broker outage up to the
        # transaction timeout (connectors.outage_properties). The watchdog's default 180 s would
        # call that a fatal TaskManager error, and the MiniCluster has only one (docs/adr/0110).
        "task.cancellation.timeout": str(
            settings.kafka_transaction_timeout_ms + CANCELLATION_MARGIN_MS
        ),
        # Chained operators hand records on without a defensive copy: none of the job's
        # operators keeps or changes a record after passing it on (docs/adr/0048).
        "pipeline.object-reuse": "true",
        "python.fn-execution.bundle.size": str(settings.bundle_size),
        "python.fn-execution.bundle.time": str(settings.bundle_time_ms),
        "python.state.cache-size": "10000",
        # A small MiniCluster: the whole process tree stays well under 1.5 GB.
        "taskmanager.memory.managed.size": settings.managed_memory,
        "taskmanager.memory.network.min": "64m",
        "taskmanager.memory.network.max": "64m",
        "metrics.reporter.prom.factory.class": (
            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
        ),
        "metrics.reporter.prom.port": str(settings.metrics_port),
        "metrics.reporter.prom.host": "127.0.0.1",
    }
    if restore_from:
        options["execution.state-recovery.path"] = restore_from
        if settings.allow_non_restored_state:
            options["execution.state-recovery.ignore-unclaimed-state"] = "true"
    return options


def environment_settings(settings: Settings, restore_from: str | None) -> FlinkEnvironmentSettings:
    """The job's MiniCluster environment: the checkout's defaults overridden by ``settings``.

    A remote checkpoint URI (``s3://...``) goes to Flink as an option; the local checkpoint
    directory is then only the default scratch directory under ``$STREAMFLOW_LOCAL_DIR``.
    """
    base = FlinkEnvironmentSettings.local(local_dir())
    local = local_path(settings.checkpoint_dir)
    return dataclasses.replace(
        base,
        connector_jar=settings.connector_jar or base.connector_jar,
        java_jar=settings.java_jar or base.java_jar,
        log_dir=settings.flink_log_dir or base.log_dir,
        rest_port=settings.flink_rest_port,
        checkpoint_dir=local if local is not None else base.checkpoint_dir,
        checkpoint_interval_ms=settings.checkpoint_interval_ms,
        parallelism=settings.parallelism,
        state_backend=settings.state_backend,
        python_execution_mode=settings.execution_mode,
        jvm_args=f"-Xmx{settings.jvm_heap}",
        extra={**base.extra, **job_options(settings, restore_from)},
    )
