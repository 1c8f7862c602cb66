"""The fraud-scoring PyFlink job: ``python -m streamflow.fraud_scorer.fraud_job``.

transactions.raw -> key by customer (in the JVM) -> contract validation (rejects ->
streamflow.dlq) and scoring with Flink keyed state (TTL, RocksDB) and the broadcast rules +
merchant and card labels (from fraud.rules and fraud.feedback) and the current and shadow
supervised models (from fraud.models) -> transactions.scored (exactly-once) and
fraud.alerts; the scored stream also feeds event-time tumbling windows per store (1 min, 5 min,
1 h, in Flink SQL) -> metrics.realtime.
See docs/adr/0045-0049.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from pyflink.common import Types, WatermarkStrategy
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee

from streamflow.fraud_scorer import functions as fn
from streamflow.fraud_scorer.config import AlertDelivery, Settings
from streamflow.fraud_scorer.connectors import (
    KEYED_RECORD_TYPE,
    customer_keyed,
    kafka_source,
    keyed_sink,
    side_output,
    transaction_timeout_ms,
    with_merchant_traffic,
)
from streamflow.fraud_scorer.environment import build_environment, watch_taskmanagers
from streamflow.fraud_scorer.job_config import environment_settings, restore_path
from streamflow.fraud_scorer.store_windows import store_windows
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import Profile, load_settings

log = logging.getLogger(__name__)

MERCHANT_TRAFFIC_TTL_DAYS = 32
"""A merchant's day counts are dropped after this many days without a payment (they only
cover the last 31 days)."""
WINDOW_LEVELS = (60, 300, 3600)
"""Tumbling window sizes of the real-time aggregator, in seconds."""


def _source(
    env: StreamExecutionEnvironment,
    settings: Settings,
    topic: str,
    uid: str,
    *,
    keyed: bool = False,
) -> Any:
    """A topic's stream of values, or (``keyed``) its ``Row(customer_key, value)`` records.

    ``uid`` names the source's state (its offsets) in checkpoints: stable across releases, as
    every stateful operator's here, so a changed graph still restores (docs/adr/0058).
    """
    source = kafka_source(settings.kafka, topic, settings.group_id, customer_keyed=keyed)
    type_info = KEYED_RECORD_TYPE if keyed else None
    stream = env.from_source(source, WatermarkStrategy.no_watermarks(), f"kafka:{topic}", type_info)
    return stream.uid(uid)


def _sink(
    settings: Settings,
    topic: str,
    key: str,
    guarantee: DeliveryGuarantee,
    timeout_ms: int | None = None,
) -> Any:
    """A keyed sink; ``timeout_ms`` (default: the setting) is its transaction timeout."""
    suffix = topic.replace(".", "-")
    return keyed_sink(
        settings.kafka,
        topic,
        key,
        guarantee,
        f"{settings.transactional_id_prefix}-{suffix}",
        settings.kafka_transaction_timeout_ms if timeout_ms is None else timeout_ms,
    )


def control_inputs(env: StreamExecutionEnvironment, settings: Settings) -> Any:
    """The scorer's control inputs, rules, feedback and models, as one stream of ``(kind, raw)``."""
    topics = settings.topics
    control_type = Types.TUPLE([Types.STRING(), Types.STRING()])
    rules = _source(env, settings, topics.fraud_rules, "source-rules").map(
        lambda raw: (fn.RULES, raw), output_type=control_type
    )
    feedback = _source(env, settings, topics.fraud_feedback, "source-feedback").map(
        lambda raw: (fn.FEEDBACK, raw), output_type=control_type
    )
    models = _source(env, settings, topics.fraud_models, "source-models").map(
        lambda raw: (fn.MODELS, raw), output_type=control_type
    )
    return rules.union(feedback, models)


def build_pipeline(env: StreamExecutionEnvironment, settings: Settings) -> None:
    """Add the scoring job's sources, operators and sinks to ``env``."""
    topics = settings.topics
    exactly_once = DeliveryGuarantee.EXACTLY_ONCE
    # First, as before: operators without a uid get ids from the order the graph was built in.
    control = control_inputs(env, settings)
    scorer = fn.ScoreTransactions(
        topics.transactions_raw,
        topics.fraud_rules,
        topics.fraud_feedback,
        fn.initial_rules(settings.rules_file, settings.blacklist_file),
        settings.model_path,
        settings.max_future_seconds,
        topics.fraud_models,
        settings.supervised_model_path,
        settings.card_sweep_every,
        settings.hot_customers,
    )
    transactions = _source(
        env, settings, topics.transactions_raw, "source-transactions", keyed=True
    )
    scored = (
        # The merchant's daily traffic, then keyed by customer, both in the JVM: no Python
        # operator before the scorer (docs/adr/0045, 0058).
        customer_keyed(
            with_merchant_traffic(transactions, MERCHANT_TRAFFIC_TTL_DAYS, settings.hot_merchants)
        )
        .connect(control.broadcast(fn.CONTROL_STATE))
        .process(scorer, output_type=fn.SCORED_FEED_TYPE)
        .name("score")
        .uid("score")
    )
    timeout_ms = transaction_timeout_ms(settings.kafka, settings.kafka_transaction_timeout_ms)
    alert_guarantee = (
        exactly_once
        if settings.alert_delivery is AlertDelivery.EXACTLY_ONCE
        else DeliveryGuarantee.AT_LEAST_ONCE
    )
    scored.sink_to(
        _sink(settings, topics.transactions_scored, "customer_id", exactly_once, timeout_ms)
    ).uid("sink-scored")
    side_output(scored, fn.ALERT_TAG).sink_to(
        _sink(settings, topics.fraud_alerts, "alert_id", alert_guarantee, timeout_ms)
    ).uid("sink-alerts")
    side_output(scored, fn.DLQ_TAG).sink_to(
        _sink(settings, topics.dlq, "source_topic", exactly_once, timeout_ms)
    ).uid("sink-dlq")
    store_windows(
        env,
        scored,
        WINDOW_LEVELS,
        settings.watermark_out_of_orderness_ms,
        fn.METRICS_TYPE,
    ).sink_to(_sink(settings, topics.metrics_realtime, "store_id", exactly_once, timeout_ms)).uid(
        "sink-metrics"
    )


def main() -> None:
    """Build and run the job from the environment (``STREAMFLOW_SCORER_*`` and friends)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings(Settings)
    override = settings.policy_override()
    if override is not None:
        log.warning("%s", override)
    restore_from = restore_path(settings)
    log.info("starting %s (restore from %s)", settings.job_name, restore_from or "nothing")
    flink = environment_settings(settings, restore_from)
    local = settings.profile is Profile.LOCAL  # a MiniCluster (dev/prod: the operator's cluster)
    if local and flink.rest_port is None:
        # A known REST port, so that the watchdog can ask the MiniCluster for its TaskManagers.
        flink = dataclasses.replace(flink, rest_port=free_loopback_port())
    env = build_environment(flink)
    build_pipeline(env, settings)
    rest_url = flink.rest_url()
    if local and rest_url is not None:
        # Exit (non-zero) when the MiniCluster lost its only TaskManager, so that whatever
        # supervises the job starts it again from its last checkpoint (docs/adr/0110).
        watch_taskmanagers(rest_url)
    env.execute(settings.job_name)


if __name__ == "__main__":
    main()
