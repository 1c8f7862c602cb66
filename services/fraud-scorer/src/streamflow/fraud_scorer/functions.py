"""Flink functions of the scoring job: they only adapt Flink state and records to the core.

Every decision (validation, scoring, rule updates, merchant risk) is made by
:mod:`streamflow.scoring.core`; these classes read and write Flink state, attach record keys and
route rejects to the dead-letter side output.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyflink.common import Row, Types
from pyflink.common.time import Duration, Time
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import (
    KeyedBroadcastProcessFunction,
    RuntimeContext,
)
from pyflink.datastream.state import MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from streamflow.events import (
    ContractError,
    Feedback,
    Label,
    ModelSlot,
    RuleSet,
    Stage,
    decode,
    encode,
)
from streamflow.fraud_scorer.hot_state import HotStates
from streamflow.fraud_scorer.records import dead_letter, raw_bytes, split_traffic, to_cents
from streamflow.fraud_scorer.store_windows import FEED_FIELDS
from streamflow.scoring import COMPILED
from streamflow.scoring.core import (
    NO_SUPERVISED,
    AnomalyModel,
    CustomerState,
    MerchantLabels,
    RuleUpdateRejected,
    Supervised,
    apply_rule_update,
    default_rules,
    load_model,
    score_transaction_json,
    validate_transaction,
)
from streamflow.scoring.gbdt import GbdtModel, load_starter
from streamflow.scoring.merchant_risk import label_context
from streamflow.scoring.model_release import ModelRejected, load_release
from streamflow.scoring.rules_io import read_rules
from streamflow.scoring.state_config import CUSTOMER_STATE_TTL
from streamflow.scoring.supervised_features import NO_FRAUD_DAYS
from streamflow.scoring.trees import native_walk
from streamflow.scoring.view import make_view

RULES = "rules"
FEEDBACK = "feedback"
MODELS = "models"
RULES_KEY = "rules"
MERCHANT_PREFIX = "m:"
CARD_PREFIX = "c:"
MODEL_KEYS = {ModelSlot.CURRENT: "model:current", ModelSlot.SHADOW: "model:shadow"}
"""Broadcast-state keys of the two model slots (each holds the release's JSON bytes)."""
CARD_SWEEP_EVERY = 1024
"""Every this many feedback records, cards whose labels no longer change any feature are
dropped from the broadcast state (which would otherwise grow with every card ever labelled)."""
HOT_CUSTOMERS = 100_000
"""Customers whose latest state the scoring function keeps in memory (:class:`HotStates`)."""
COUNT_EVERY = 1024
"""Events between two updates of the state-read counters (each update is a call into Java)."""
CARD_IDLE_SECONDS = (NO_FRAUD_DAYS + 30.0) * 86_400.0
"""A card whose newest label is this far behind the newest feedback is dropped: its card
features already equal a card with no labels (days since fraud capped at NO_FRAUD_DAYS, the
card window shorter), with 30 days to spare for transactions scored behind the feedback."""


def keyed_row_type(key_field: str) -> Any:
    """``Row(<key_field>, value)``: what the keyed Kafka sinks consume."""
    return Types.ROW_NAMED([key_field, "value"], [Types.STRING(), Types.STRING()])


DLQ_TYPE = keyed_row_type("source_topic")
SCORED_TYPE = keyed_row_type("customer_id")
ALERT_TYPE = keyed_row_type("alert_id")
METRICS_TYPE = keyed_row_type("store_id")
SCORED_FEED_TYPE = Types.ROW_NAMED(
    ["customer_id", "value", *(name for name, _, _ in FEED_FIELDS)],
    [Types.STRING(), Types.STRING(), *(kind for _, kind, _ in FEED_FIELDS)],
)
"""The scorer's main output: ``Row(customer_id, scored JSON)`` followed by the store windows'
feed fields (store, event ms, amount in cents, alert flag). The ``transactions.scored`` sink reads
the first two fields, the SQL windows the feed fields: one record per transaction leaves Python
instead of a scored row plus a window-feed side output (docs/adr/0048)."""

DLQ_TAG = OutputTag("dead-letters", DLQ_TYPE)
ALERT_TAG = OutputTag("alerts", ALERT_TYPE)

CONTROL_STATE = MapStateDescriptor("control", Types.STRING(), Types.PICKLED_BYTE_ARRAY())
"""Broadcast state: the rule set (JSON bytes), every merchant's and card's labels (``m:<id>``,
``c:<id>``) and the current and shadow model releases (:data:`MODEL_KEYS`)."""

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def initial_rules(rules_file: Path | None, blacklist_file: Path | None) -> RuleSet:
    """The rules in force before ``fraud.rules`` says otherwise."""
    if rules_file is not None:
        return read_rules(rules_file)
    return default_rules(blacklist_file)


class _UnreadDuration(Duration):  # type: ignore[misc]
    """A placeholder for the RocksDB filter's periodic compaction time, which PyFlink never reads.

    PyFlink 2.2 stores that time on the Python strategy object and hands only the entry count to
    the JVM, where Flink's own 30-day default applies. Left unset, PyFlink fills it with
    ``Duration.of_days(30)``, a py4j call: fine in the local MiniCluster (the client's JVM), but
    a TaskManager of a real cluster has no gateway, so ``open()`` failed there with
    ``FileNotFoundError`` while trying to launch one (docs/adr/0044).
    """

    def __init__(self) -> None:
        super().__init__(None)


def customer_state_ttl() -> StateTtlConfig:
    """The customer state's TTL, built without the JVM gateway (TaskManagers have none).

    The same cleanup as Flink's defaults: incremental cleanup on access (5 entries) and the
    RocksDB compaction filter refreshing its clock every 1,000 entries, but named explicitly
    with "background cleanup" off. With it on, PyFlink builds its default compaction-filter
    strategy (``Duration.of_days(30)``, a py4j call) whenever the config is read, even when an
    explicit one is set; explicit strategies apply either way, in Python and in Flink.
    """
    return (
        StateTtlConfig.new_builder(Time.seconds(int(CUSTOMER_STATE_TTL.total_seconds())))
        .disable_cleanup_in_background()
        .cleanup_incrementally(5, False)
        .cleanup_in_rocksdb_compact_filter(1000, _UnreadDuration())
        .build()
    )


class ScoreTransactions(KeyedBroadcastProcessFunction):  # type: ignore[misc]
    """Customer-keyed validation and scoring with the broadcast rules and merchant risks.

    Input: raw ``transactions.raw`` values keyed by customer in the JVM (``customer_id``, ``""``
    when unreadable; :func:`streamflow.fraud_scorer.connectors.customer_keyed`), each prefixed
    with its merchant's daily traffic (:func:`~streamflow.fraud_scorer.records.split_traffic`).
    Validation happens here, not in an operator of its own: every Python operator costs a
    Java<->Python hand-off per record, which dominated the job's CPU (docs/adr/0070).

    Main output: ``transactions.scored`` rows with the real-time aggregator's feed fields
    (:data:`SCORED_FEED_TYPE`); side outputs: alerts and dead letters (rejected transactions,
    rule updates and feedback).
    Decoded rules and merchant risks are cached per instance; the broadcast state is the source
    of truth, so a restored job rebuilds the caches from it lazily.
    """

    def __init__(  # noqa: PLR0917 - the job's wiring
        self,
        raw_topic: str,
        rules_topic: str,
        feedback_topic: str,
        rules: RuleSet,
        model_path: Path | None,
        max_future_seconds: int,
        models_topic: str = "fraud.models",
        starter_model_path: Path | None = None,
        card_sweep_every: int = CARD_SWEEP_EVERY,
        hot_customers: int = HOT_CUSTOMERS,
    ) -> None:
        self._raw_topic = raw_topic
        self._models_topic = models_topic
        self._max_future = timedelta(seconds=max_future_seconds)
        self._rules_topic = rules_topic
        self._feedback_topic = feedback_topic
        self._initial_rules = rules
        self._model_path = model_path
        self._starter_path = starter_model_path
        self._starter: GbdtModel | None = None
        self._sweep_every = card_sweep_every
        self._feedback_seen = 0
        self._newest_report = -math.inf
        self._rules: RuleSet | None = None
        self._risks: dict[str, MerchantLabels | None] = {}
        self._cards: dict[str, MerchantLabels | None] = {}
        self._model: AnomalyModel | None = None
        self._supervised: tuple[GbdtModel | None, GbdtModel | None] | None = None
        self._state: Any = None
        self._hot_customers = hot_customers
        self._hot = HotStates(0)
        self._counters: tuple[Any, Any] = (None, None)

    def open(self, runtime_context: RuntimeContext) -> None:
        descriptor = ValueStateDescriptor("customer", Types.PICKLED_BYTE_ARRAY())
        descriptor.enable_time_to_live(customer_state_ttl())
        self._state = runtime_context.get_state(descriptor)
        self._hot = HotStates(self._hot_customers)
        metrics = runtime_context.get_metrics_group()
        # how often a customer's state was still in memory: sizes STREAMFLOW_SCORER_HOT_CUSTOMERS
        self._counters = (
            metrics.counter("customerStateHeld"),
            metrics.counter("customerStateReads"),
        )
        log.info(
            "scoring core: %s; tree models: %s",
            "compiled (mypyc)" if COMPILED else "plain Python",
            "numba" if native_walk() is not None else "generated Python",
        )
        self._model = load_model(self._model_path)
        self._starter = load_starter(self._starter_path)
        self._rules = None
        self._risks = {}
        self._cards = {}
        self._supervised = None

    def _current_rules(self, ctx: Any) -> RuleSet:
        if self._rules is None:
            stored = ctx.get_broadcast_state(CONTROL_STATE).get(RULES_KEY)
            self._rules = decode(RuleSet, stored) if stored is not None else self._initial_rules
        return self._rules

    def _merchant_labels(self, ctx: Any, merchant_id: str) -> MerchantLabels | None:
        if merchant_id not in self._risks:
            raw = ctx.get_broadcast_state(CONTROL_STATE).get(MERCHANT_PREFIX + merchant_id)
            self._risks[merchant_id] = MerchantLabels.from_bytes(raw) if raw is not None else None
        return self._risks[merchant_id]

    def _card_labels(self, ctx: Any, card_id: str) -> MerchantLabels | None:
        if card_id not in self._cards:
            raw = ctx.get_broadcast_state(CONTROL_STATE).get(CARD_PREFIX + card_id)
            self._cards[card_id] = MerchantLabels.from_bytes(raw) if raw is not None else None
        return self._cards[card_id]

    def _models(self, ctx: Any) -> tuple[GbdtModel | None, GbdtModel | None]:
        """(current, shadow) supervised models, restored from broadcast state on first use; the
        starter model is current until a release to the current slot arrives."""
        if self._supervised is None:
            state = ctx.get_broadcast_state(CONTROL_STATE)
            current, shadow = (
                _restore_model(state.get(MODEL_KEYS[slot]))
                for slot in (ModelSlot.CURRENT, ModelSlot.SHADOW)
            )
            self._supervised = (current or self._starter, shadow)
        return self._supervised

    def process_element(self, value: str, ctx: Any) -> Iterator[Any]:
        now = _now()
        payments, value = split_traffic(value)
        try:
            txn = validate_transaction(value, now, self._max_future)
        except ContractError as exc:
            reason = str(exc)
            letter = dead_letter(Stage.SCORER, self._raw_topic, value, exc.error_type, reason, now)
            yield DLQ_TAG, Row(*letter)
            return
        rules = self._current_rules(ctx)
        view = make_view(txn)
        event_s = view.epoch
        labels = self._merchant_labels(ctx, txn.merchant_id)
        # Only the labels reported up to the transaction's event time count (ADR 0040).
        half_life = rules.merchant_risk.half_life_days
        risk = labels.risk_at(event_s, half_life) if labels is not None else 0.0
        current, shadow = self._models(ctx)
        supervised = NO_SUPERVISED
        if current is not None or shadow is not None:
            card = self._card_labels(ctx, txn.card_id)
            supervised = Supervised(current, shadow, label_context(labels, card, event_s, payments))
        key = ctx.get_current_key()
        hot, now_s = self._hot, now.timestamp()
        stored = hot.read(key, now_s, self._state)
        if hot.held + hot.reads >= COUNT_EVERY:
            self._count_state_reads()
        before = CustomerState.from_bytes(stored) if stored is not None else None
        # ``before`` was just read from bytes and is not used again: updated in place
        after, out = score_transaction_json(
            before, txn, rules, risk, self._model, now, supervised, reuse_state=True, view=view
        )
        hot.write(key, after.to_bytes(), now_s, self._state)
        event_ms = int(event_s * 1000)
        yield Row(
            txn.customer_id,
            out.scored,
            txn.store_id,
            event_ms,
            to_cents(txn.amount),
            int(out.is_alert),
        )
        if out.alert is not None:
            yield ALERT_TAG, Row(out.alert_id, out.alert)

    def _count_state_reads(self) -> None:
        hot = self._hot
        held, reads = self._counters
        held.inc(hot.held)
        reads.inc(hot.reads)
        hot.held = hot.reads = 0

    def process_broadcast_element(self, value: tuple[str, str], ctx: Any) -> Iterator[Any]:
        kind, raw = value
        if kind == RULES:
            yield from self._update_rules(raw, ctx)
        elif kind == MODELS:
            yield from self._update_model(raw, ctx)
        else:
            yield from self._learn_feedback(raw, ctx)

    def _update_model(self, raw: str, ctx: Any) -> Iterator[Any]:
        """Check a release and put it in its slot; a bad one is dead-lettered, the old stays."""
        try:
            loaded = load_release(raw_bytes(raw))
        except ContractError as exc:
            error_type, reason = exc.error_type, str(exc)
        except ModelRejected as exc:
            error_type, reason = exc.error_type, exc.reason
        else:
            current, shadow = self._models(ctx)
            state = ctx.get_broadcast_state(CONTROL_STATE)
            release, model = loaded.release, loaded.model
            state.put(MODEL_KEYS[release.slot], raw_bytes(raw))
            if release.slot is ModelSlot.CURRENT:
                current = model
                if shadow is not None and shadow.version == model.version:
                    # promoted: the shadow's version is now the current one
                    state.remove(MODEL_KEYS[ModelSlot.SHADOW])
                    shadow = None
            else:
                shadow = model
            self._supervised = (current, shadow)
            log.info("model %s is now %s", release.version, release.slot.value)
            return
        letter = dead_letter(Stage.MODELS, self._models_topic, raw, error_type, reason, _now())
        yield DLQ_TAG, Row(*letter)

    def _update_rules(self, raw: str, ctx: Any) -> Iterator[Any]:
        current = self._current_rules(ctx)
        try:
            rules = apply_rule_update(raw_bytes(raw), current)  # never raises on odd text
        except RuleUpdateRejected as exc:
            yield (
                DLQ_TAG,
                Row(
                    *dead_letter(
                        Stage.RULES, self._rules_topic, raw, exc.error_type, exc.reason, _now()
                    )
                ),
            )
            return
        ctx.get_broadcast_state(CONTROL_STATE).put(RULES_KEY, encode(rules))
        self._rules = rules

    def _learn_feedback(self, raw: str, ctx: Any) -> Iterator[Any]:
        try:
            feedback = decode(Feedback, raw)
        except ContractError as exc:
            yield (
                DLQ_TAG,
                Row(
                    *dead_letter(
                        Stage.SCORER, self._feedback_topic, raw, exc.error_type, str(exc), _now()
                    )
                ),
            )
            return
        half_life = self._current_rules(ctx).merchant_risk.half_life_days
        labels = self._merchant_labels(ctx, feedback.merchant_id) or MerchantLabels.empty()
        # A label is a fact per (transaction, source): a repeat replaces it (docs/adr/0057).
        labels.add_feedback(feedback, half_life)
        state = ctx.get_broadcast_state(CONTROL_STATE)
        state.put(MERCHANT_PREFIX + feedback.merchant_id, labels.to_bytes())
        self._risks[feedback.merchant_id] = labels
        self._newest_report = max(self._newest_report, feedback.reported_at.timestamp())
        self._feedback_seen += 1
        if self._feedback_seen % self._sweep_every == 0:
            self._sweep_cards(state)
        card_id = feedback.card_id
        if card_id is None:
            return
        card = self._card_labels(ctx, card_id)
        # the card's confirmed frauds (a changed verdict replaces its fact, like merchants'); a
        # legit label of a card with no labels yet keeps nothing
        if card is not None or feedback.label is Label.FRAUD:
            card = card or MerchantLabels.empty()
            card.add_feedback(feedback, half_life)
            state.put(CARD_PREFIX + card_id, card.to_bytes())
            self._cards[card_id] = card

    def _sweep_cards(self, state: Any) -> None:
        """Drop the cards whose labels are :data:`CARD_IDLE_SECONDS` behind the newest report."""
        cutoff = self._newest_report - CARD_IDLE_SECONDS
        stale = [
            key
            for key, raw in state.items()
            if key.startswith(CARD_PREFIX) and _newest_label(raw) < cutoff
        ]
        for key in stale:
            state.remove(key)
            self._cards.pop(key[len(CARD_PREFIX) :], None)
        if stale:
            log.info("dropped the labels of %d cards idle for over a year", len(stale))


def _newest_label(raw: bytes) -> float:
    """Report time of a card's newest kept label."""
    labels = MerchantLabels.from_bytes(raw)
    if labels.whens:
        return labels.whens[-1]
    return labels.base.ref_time if labels.base is not None else -math.inf


def _restore_model(raw: bytes | None) -> GbdtModel | None:
    """The model of a release kept in broadcast state (checked when it arrived)."""
    if raw is None:
        return None
    try:
        return load_release(raw).model
    except (ContractError, ModelRejected) as exc:  # pragma: no cover - checked before it was kept
        log.error("a kept model release no longer loads: %s", exc)
        return None
