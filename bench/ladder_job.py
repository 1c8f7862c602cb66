"""The scorer ladder's rung jobs: ``python bench/ladder_job.py --rung L0..L5`` (PyFlink env).

Every rung reads ``transactions.raw`` through the job's own customer-keyed Java source and writes
``Row(customer_id, value)`` to ``transactions.scored`` through the job's own exactly-once keyed
sink, in an environment built exactly as the real job builds its own (``environment_settings``
+ ``build_environment``: thread mode, RocksDB, 2 s exactly-once checkpoints, bundle sizes). Only
the work in between grows (docs/adr/0081-reference-ladder.md):

- L0: no Python at all: the source's ``Row(key, value)`` straight into the sink.
- L0m: L0 + the job's merchant-traffic hop (``with_merchant_traffic``: keyed by merchant in the
  JVM, day buckets, counts ahead of the value): what that hop costs on its own (not a rung the
  others build on; docs/adr/0058).
- L1: + one Python ``KeyedProcessFunction`` (keyed by customer in the JVM, as the job is) that
  reads and writes one bytes ``ValueState`` (the job's descriptor and TTL) and forwards the value.
- L2: + the core's decode and validation (``validate_transaction``).
- L3: + the whole scoring core: state from bytes (held in memory for the recently active
  customers, as the job holds it: ``HotStates``, docs/adr/0126), ``score_transaction_json``
  with the job's rules, anomaly model and starter supervised model (with no labels or merchant
  traffic: L3 has no broadcast inputs and no traffic hop), state to bytes; the scored record is
  the only output.
- L3m, L3b (diagnostic, not in ``make bench``): L3 behind the job's merchant-traffic hop
  (the value arrives prefixed with its merchant's traffic and is split as the job splits it), and
  L3 as a ``KeyedBroadcastProcessFunction`` connected to the job's three control sources (rules,
  feedback, models; idle in the bench). Each adds one of L4's pieces to L3 on its own.
- L4: the real job's wiring (``fraud_job.build_pipeline``) with its store windows swapped for a
  discarding sink: the real ``ScoreTransactions`` with its broadcast rules/feedback inputs and
  every side output, alerts and dead letters to their real sinks, the window feed discarded.
- L5: the real job (``fraud_job.build_pipeline``: L4 + the Flink SQL store windows and
  ``metrics.realtime``).

Settings come from the environment, as for the real job (``STREAMFLOW_SCORER_*``,
``STREAMFLOW_TOPIC_*``, ...); ``bench/ladder_scorer.py`` sets them and runs one rung per process.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from pyflink.common import Row, Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.base import DeliveryGuarantee, Sink
from pyflink.datastream.functions import (
    KeyedBroadcastProcessFunction,
    KeyedProcessFunction,
    RuntimeContext,
)
from pyflink.datastream.state import ValueStateDescriptor

from streamflow.events import ContractError, RuleSet
from streamflow.fraud_scorer import fraud_job
from streamflow.fraud_scorer import functions as fn
from streamflow.fraud_scorer.config import Settings
from streamflow.fraud_scorer.connectors import (
    customer_keyed,
    transaction_timeout_ms,
    with_merchant_traffic,
)
from streamflow.fraud_scorer.environment import build_environment

# The real job's own source and sink builders, so every rung reads and writes exactly as it does.
from streamflow.fraud_scorer.fraud_job import _sink as job_sink
from streamflow.fraud_scorer.fraud_job import _source as job_source
from streamflow.fraud_scorer.hot_state import HotStates
from streamflow.fraud_scorer.job_config import environment_settings
from streamflow.fraud_scorer.records import split_traffic
from streamflow.platform.settings import load_settings
from streamflow.scoring.core import (
    NO_SUPERVISED,
    AnomalyModel,
    CustomerState,
    Supervised,
    load_model,
    score_transaction_json,
    validate_transaction,
)
from streamflow.scoring.gbdt import load_starter

RUNGS = ("L0", "L0m", "L1", "L2", "L3", "L3m", "L3b", "L4", "L5")
DISCARDING_SINK = "org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink"
NO_MERCHANT_RISK = 0.0
"""What the real job computes for a merchant without feedback (the bench sends none)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _customer_state() -> ValueStateDescriptor:
    """The real job's customer state: one pickled-bytes value with the job's TTL."""
    descriptor = ValueStateDescriptor("customer", Types.PICKLED_BYTE_ARRAY())
    descriptor.enable_time_to_live(fn.customer_state_ttl())
    return descriptor


class TouchState(KeyedProcessFunction):  # type: ignore[misc]
    """L1: read and write one bytes ``ValueState`` per event, forward the value."""

    def __init__(self) -> None:
        self._state: Any = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._state = runtime_context.get_state(_customer_state())

    def process_element(self, value: str, ctx: Any) -> Iterator[Row]:
        self._state.value()
        self._state.update(value.encode("utf-8"))
        yield Row(ctx.get_current_key(), value)


class ValidateOnly(TouchState):
    """L2: L1 + the core's decode and validation of the raw value."""

    def __init__(self, max_future_seconds: int) -> None:
        super().__init__()
        self._max_future = timedelta(seconds=max_future_seconds)

    def process_element(self, value: str, ctx: Any) -> Iterator[Row]:
        self._state.value()
        try:
            txn = validate_transaction(value, _now(), self._max_future)
        except ContractError:
            return  # the bench sends valid transactions only; rejects would show as missing
        self._state.update(value.encode("utf-8"))
        yield Row(txn.customer_id, value)


class ScoreCoreOnly(TouchState):
    """L3: L2 + the whole scoring core (state from/to bytes, the recently active customers' held
    in memory as the job holds them); the scored record only."""

    def __init__(self, rules: RuleSet, settings: Settings, *, after_traffic: bool = False) -> None:
        super().__init__()
        self._after_traffic = after_traffic
        self._rules = rules
        self._model_path = settings.model_path
        self._starter_path = settings.supervised_model_path
        self._max_future = timedelta(seconds=settings.max_future_seconds)
        self._model: AnomalyModel | None = None
        self._supervised = NO_SUPERVISED
        self._hot_customers = settings.hot_customers
        self._hot = HotStates(0)

    def open(self, runtime_context: RuntimeContext) -> None:
        super().open(runtime_context)
        self._hot = HotStates(self._hot_customers)
        self._model = load_model(self._model_path)
        starter = load_starter(self._starter_path)
        self._supervised = Supervised(starter) if starter is not None else NO_SUPERVISED

    def process_element(self, value: str, ctx: Any) -> Iterator[Row]:
        now = _now()
        if self._after_traffic:
            _, value = split_traffic(value)
        try:
            txn = validate_transaction(value, now, self._max_future)
        except ContractError:
            return
        key, now_s = ctx.get_current_key(), now.timestamp()
        stored = self._hot.read(key, now_s, self._state)
        before = CustomerState.from_bytes(stored) if stored is not None else None
        after, out = score_transaction_json(
            before,
            txn,
            self._rules,
            NO_MERCHANT_RISK,
            self._model,
            now,
            self._supervised,
            reuse_state=True,
        )
        self._hot.write(key, after.to_bytes(), now_s, self._state)
        yield Row(txn.customer_id, out.scored)


class ScoreCoreBroadcast(KeyedBroadcastProcessFunction):  # type: ignore[misc]
    """L3b: L3's function connected to the control inputs (which it ignores: none arrive)."""

    def __init__(self, rules: RuleSet, settings: Settings) -> None:
        self._core = ScoreCoreOnly(rules, settings)

    def open(self, runtime_context: RuntimeContext) -> None:
        self._core.open(runtime_context)

    def process_element(self, value: str, ctx: Any) -> Iterator[Row]:
        return self._core.process_element(value, ctx)  # its generator: no frame of our own

    def process_broadcast_element(self, value: tuple[str, str], ctx: Any) -> Iterator[Row]:
        return iter(())


def _keyed_transactions(env: StreamExecutionEnvironment, settings: Settings) -> Any:
    return customer_keyed(
        job_source(
            env, settings, settings.topics.transactions_raw, "source-transactions", keyed=True
        )
    )


def _scored_sink(settings: Settings) -> Any:
    """The job's exactly-once ``transactions.scored`` sink, with the job's transaction timeout."""
    timeout_ms = transaction_timeout_ms(settings.kafka, settings.kafka_transaction_timeout_ms)
    exactly_once = DeliveryGuarantee.EXACTLY_ONCE
    return job_sink(
        settings, settings.topics.transactions_scored, "customer_id", exactly_once, timeout_ms
    )


class _DiscardedWindows:
    """What the store windows are in L4: the feed went to a discarding sink, nothing is left."""

    def sink_to(self, sink: Any) -> _DiscardedWindows:
        """The job's ``metrics.realtime`` sink is never added."""
        return self

    def uid(self, uid: str) -> _DiscardedWindows:
        """Nothing to name: the sink was never added."""
        return self


def _discard_windows(
    env: Any, feed: Any, sizes_seconds: tuple[int, ...], out_of_orderness_ms: int, output_type: Any
) -> Any:
    """L4's stand-in for ``store_windows``: the window feed (a side output) is discarded."""
    feed.sink_to(Sink(DISCARDING_SINK))
    return _DiscardedWindows()


def build_rung(env: StreamExecutionEnvironment, settings: Settings, rung: str) -> None:
    """Add rung ``rung``'s sources, operators and sinks to ``env``."""
    if rung == "L5":
        fraud_job.build_pipeline(env, settings)
        return
    if rung == "L4":
        # The real wiring, so L4 follows the job; only the store windows are swapped out.
        with patch.object(fraud_job, "store_windows", _discard_windows):
            fraud_job.build_pipeline(env, settings)
        return
    if rung in {"L0", "L0m"}:
        raw = settings.topics.transactions_raw
        records = job_source(env, settings, raw, "source-transactions", keyed=True)
        if rung == "L0m":
            records = with_merchant_traffic(
                records, fraud_job.MERCHANT_TRAFFIC_TTL_DAYS, settings.hot_merchants
            )
        records.sink_to(_scored_sink(settings))
        return
    rules = fn.initial_rules(settings.rules_file, settings.blacklist_file)
    if rung == "L3m":
        raw = settings.topics.transactions_raw
        records = job_source(env, settings, raw, "source-transactions", keyed=True)
        traffic = with_merchant_traffic(
            records, fraud_job.MERCHANT_TRAFFIC_TTL_DAYS, settings.hot_merchants
        )
        scored = customer_keyed(traffic).process(
            ScoreCoreOnly(rules, settings, after_traffic=True), output_type=fn.SCORED_TYPE
        )
        scored.name("ladder-L3m").sink_to(_scored_sink(settings))
        return
    if rung == "L3b":
        connected = _keyed_transactions(env, settings).connect(
            fraud_job.control_inputs(env, settings).broadcast(fn.CONTROL_STATE)
        )
        scored = connected.process(ScoreCoreBroadcast(rules, settings), output_type=fn.SCORED_TYPE)
        scored.name("ladder-L3b").sink_to(_scored_sink(settings))
        return
    function: TouchState
    if rung == "L1":
        function = TouchState()
    elif rung == "L2":
        function = ValidateOnly(settings.max_future_seconds)
    elif rung == "L3":
        function = ScoreCoreOnly(rules, settings)
    else:
        msg = f"unknown rung {rung!r} (one of {', '.join(RUNGS)})"
        raise ValueError(msg)
    scored = (
        _keyed_transactions(env, settings)
        .process(function, output_type=fn.SCORED_TYPE)
        .name(f"ladder-{rung}")
    )
    scored.sink_to(_scored_sink(settings))


def main() -> None:
    """Build and run one rung from the environment's settings (never restores a checkpoint)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rung", choices=RUNGS, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings(Settings)
    flink = environment_settings(settings, None)
    env = build_environment(flink)
    build_rung(env, settings, args.rung)
    env.execute(f"{settings.job_name}-ladder-{args.rung}")


if __name__ == "__main__":
    main()
