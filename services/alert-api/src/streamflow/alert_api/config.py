"""The alert API's one settings object (``STREAMFLOW_API_*`` plus the shared infra settings)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from streamflow.platform.settings import Profile, ServiceSettings

LOCAL_PEPPER = "streamflow-local-pepper"
_SCORER_SOURCE = 'job_name=~"streamflow.fraud.scorer",operator_name=~"Source.*transactions.*"'
"""The scoring job's transactions source in Flink's Prometheus reporter: the pipeline name and
the operator ``Source: kafka:<transactions topic>`` (label values sanitised to ``[A-Za-z0-9:_]``:
the live job reports ``job_name="streamflow_fraud_scorer"``, ``Source:_kafka:transactions_raw``).
Its other sources (rules, feedback, models) are not the scorer's throughput."""


class Settings(ServiceSettings):
    """Everything the alert API reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_API_", extra="ignore")

    pg_user: str = Field(
        default="streamflow_api",
        min_length=1,
        description="Its own PostgreSQL login role (ADR 0105); STREAMFLOW_PG_USER is the owner's.",
    )
    pg_password: SecretStr | None = Field(
        default=None, description="That role's password; unset: STREAMFLOW_PG_PASSWORD."
    )

    host: str = Field(default="127.0.0.1", min_length=1, description="Address to listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port to listen on.")
    workers: int = Field(default=1, ge=1, le=32, description="uvicorn worker processes.")
    api_key_pepper: SecretStr = Field(
        default=SecretStr(LOCAL_PEPPER),
        description="Server-side secret mixed into every API-key hash (HMAC-SHA256).",
    )
    key_cache_ttl_s: float = Field(
        default=30.0, ge=0, le=3600, description="How long a verified key is trusted in-process."
    )
    default_rate_limit_per_minute: int = Field(
        default=600,
        ge=1,
        description="Requests per minute per key when the key sets none (counted in PostgreSQL, "
        "shared by every worker and pod).",
    )
    max_body_bytes: int = Field(
        default=32_768,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Largest request body; a larger one is a 413 before it is read.",
    )
    unauth_burst: int = Field(
        default=30,
        ge=1,
        description="Failed authentications a client address may make in a burst (then 429).",
    )
    unauth_per_minute: int = Field(
        default=60, ge=1, description="Failed authentications per minute an address regains."
    )
    metrics_host: str = Field(
        default="127.0.0.1", min_length=1, description="Address of the Prometheus /metrics port."
    )
    metrics_port: int = Field(
        default=9104,
        ge=0,
        le=65535,
        description="Prometheus /metrics on its own port, not the API's (0: not served).",
    )
    docs: bool | None = Field(
        default=None,
        description="Serve /docs and /openapi.json (default: yes, except in prod).",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (JSON list); none by default."
    )
    page_size_default: int = Field(default=50, ge=1, le=1000)
    page_size_max: int = Field(default=200, ge=1, le=1000)
    db_pool_min: int = Field(default=0, ge=0, le=100)
    db_pool_max: int = Field(default=10, ge=1, le=100)
    db_connect_timeout_s: float = Field(default=2.0, gt=0, le=60)
    db_acquire_timeout_s: float = Field(default=2.0, gt=0, le=60)
    db_statement_timeout_ms: int = Field(default=5000, ge=1, le=600_000)
    kafka_delivery_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="How long the outbox relay waits for acks."
    )
    client_id: str = Field(default="streamflow-alert-api", min_length=1)
    max_verdict_changes: int = Field(
        default=3, ge=0, le=100, description="Changes of an alert's verdict allowed (then 409)."
    )
    outbox_relay: bool = Field(
        default=True,
        description="Run the feedback outbox relay in this process (one leader per database).",
    )
    outbox_poll_interval_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How often the relay looks for unsent rows without a notification, and how "
        "often a standby tries to become the leader.",
    )
    outbox_batch_size: int = Field(default=200, ge=1, le=10_000)
    outbox_retry_max_s: float = Field(
        default=30.0, gt=0, le=600, description="Longest back-off after a failed publish."
    )
    outbox_retention_days: float = Field(
        default=7.0, gt=0, le=365, description="How long sent outbox rows are kept."
    )
    timeline_retention_days: float = Field(
        default=90.0,
        gt=0,
        le=3650,
        description="How long (by event time) scored transactions stay in the API's projection "
        "(app.scored_transactions, ADR 0101).",
    )
    timeline_prune_interval_s: float = Field(
        default=600.0,
        ge=0,
        le=86_400,
        description="How often each API process prunes that projection (0: never; then an "
        "operator calls app.prune_scored_transactions).",
    )

    prometheus_url: str = Field(
        default="http://127.0.0.1:9090",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Prometheus's HTTP API, where the quality dashboard reads the scorer's live "
        "rate and latency (local: scripts/services/prometheus.sh's port; ADR 0102).",
    )
    prometheus_timeout_s: float = Field(
        default=2.0, gt=0, le=30, description="Deadline of one Prometheus query."
    )
    scorer_rate_query: str = Field(
        default="sum(rate(flink_taskmanager_job_task_operator_numRecordsOut{"
        f"{_SCORER_SOURCE}}}[1m]))",
        min_length=1,
        description="PromQL: transactions per second the scorer reads (its transactions "
        "source, Flink's Prometheus reporter).",
    )
    scorer_latency_query: str = Field(
        default="(sum(flink_taskmanager_job_task_operator_pendingRecords{"
        f"{_SCORER_SOURCE}}}) or sum("
        "flink_taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer_records_lag_max{"
        f"{_SCORER_SOURCE}}})) / clamp_min(sum(rate("
        f"flink_taskmanager_job_task_operator_numRecordsOut{{{_SCORER_SOURCE}}}[1m])), 1)",
        min_length=1,
        description="PromQL: the scorer's latency in seconds (default: its backlog, the "
        "transactions its source has not read yet over the rate it reads them: how long a "
        "transaction arriving now waits before it is scored; the Kafka consumer's lag until "
        "the source has fetched and registers pendingRecords).",
    )
    queue_count_cap: int = Field(
        default=500,
        ge=1,
        le=1_000_000,
        description="GET /v1/queues under a filter the counters cannot answer (score or time "
        "range, merchant, customer) counts each status up to this many alerts, then says "
        "'more' (capped). Its cost grows with the cap: at 1M alerts a rule with a score bound "
        "took 6.2 ms of SQL at 1,000 and 3.1 ms at 500 (52 and 36 ms p99 at 8 connections); "
        "severity and rule alone are always exact (ADR 0100).",
    )
    queue_counts_rollup_interval_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="How often each API process folds the queue counters' delta rows "
        "(app.rollup_alert_counts, V047; 0: never, then an operator calls it).",
    )
    quality_max_rows: int = Field(
        default=20_000,
        ge=100,
        le=1_000_000,
        description="Most rows of the detection-quality mart one dashboard request reads.",
    )
    rules_read_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Longest wait reading the rule set in force from fraud.rules.",
    )
    whatif_max_rows: int = Field(
        default=200_000,
        ge=1_000,
        le=5_000_000,
        description="Most stored transactions one rule what-if replays, warm-up included (the "
        "newest are kept; ADR 0104).",
    )
    whatif_max_seconds: float = Field(
        default=600.0,
        gt=0,
        le=3600,
        description="Wall-clock budget of one rule what-if; beyond it the run fails.",
    )
    whatif_cpu_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="Share of one core the what-if worker may use: it sleeps between batches "
        "so its CPU time stays below this share of the wall time.",
    )
    whatif_nice: int = Field(
        default=19,
        ge=0,
        le=19,
        description="Niceness added to the what-if worker process (19: the lowest priority).",
    )
    whatif_stale_s: float = Field(
        default=60.0,
        ge=5,
        le=3600,
        description="A queued or running what-if without progress for this long is marked "
        "failed (its worker died), so a new one may start.",
    )

    @property
    def docs_enabled(self) -> bool:
        """Whether the API documentation is served (``docs``, else not in the prod profile)."""
        return self.docs if self.docs is not None else self.profile is not Profile.PROD

    @model_validator(mode="after")
    def _no_default_pepper_outside_local(self) -> Settings:
        if self.profile is not Profile.LOCAL and (
            self.api_key_pepper.get_secret_value() == LOCAL_PEPPER
        ):
            raise ValueError(
                "STREAMFLOW_API_API_KEY_PEPPER must be set to a real secret outside the local "
                "profile"
            )
        if self.page_size_default > self.page_size_max:
            raise ValueError("page_size_default must not exceed page_size_max")
        return self
