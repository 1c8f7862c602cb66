"""Unit tests of the Flink adapters with in-memory stand-ins for Flink state and contexts."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from streamflow.events import Feedback, FeedbackSource, Label, RuleSet, Transaction, encode
from streamflow.fraud_scorer import functions as fn
from streamflow.fraud_scorer.records import to_cents
from streamflow.fraud_scorer.store_windows import window_query
from streamflow.scoring.state_config import CUSTOMER_STATE_TTL

from .conftest import make_txn

NOW = datetime.now(UTC).replace(microsecond=0)


class FakeValueState:
    def __init__(self) -> None:
        self.data: Any = None
        self.reads = 0

    def value(self) -> Any:
        self.reads += 1
        return self.data

    def update(self, value: Any) -> None:
        self.data = value


class FakeMapState(dict[str, Any]):
    def put(self, key: str, value: Any) -> None:
        self[key] = value

    def remove(self, key: str) -> None:
        del self[key]


class FakeTimers:
    def __init__(self) -> None:
        self.watermark = -(2**63)
        self.timers: list[int] = []

    def current_watermark(self) -> int:
        return self.watermark

    def register_event_time_timer(self, ts: int) -> None:
        self.timers.append(ts)


class FakeCtx:
    def __init__(self, broadcast: FakeMapState | None = None, key: str = "C1") -> None:
        self.broadcast = broadcast if broadcast is not None else FakeMapState()
        self.timers = FakeTimers()
        self.key = key

    def get_current_key(self) -> str:
        return self.key

    def get_broadcast_state(self, _: Any) -> FakeMapState:
        return self.broadcast

    def timer_service(self) -> FakeTimers:
        return self.timers


class FakeCounter:
    def __init__(self) -> None:
        self.count = 0

    def inc(self, n: int = 1) -> None:
        self.count += n


class FakeMetrics(dict[str, FakeCounter]):
    def counter(self, name: str) -> FakeCounter:
        return self.setdefault(name, FakeCounter())


class FakeRuntime:
    def __init__(self) -> None:
        self.state = FakeValueState()
        self.map_state = FakeMapState()
        self.metrics = FakeMetrics()

    def get_metrics_group(self) -> FakeMetrics:
        return self.metrics

    def get_state(self, _: Any) -> FakeValueState:
        return self.state

    def get_map_state(self, _: Any) -> FakeMapState:
        return self.map_state


def scorer(rules: RuleSet | None = None) -> tuple[fn.ScoreTransactions, FakeRuntime]:
    function = fn.ScoreTransactions(
        "raw", "rules", "feedback", rules or fn.initial_rules(None, None), None, 300
    )
    runtime = FakeRuntime()
    function.open(runtime)
    return function, runtime


def validated(txn: Transaction) -> str:
    """The raw ``transactions.raw`` value of ``txn``."""
    return encode(txn).decode()


def test_scorer_routes_bad_input_to_dead_letters() -> None:
    function, runtime = scorer()
    ctx = FakeCtx()
    [(tag, row)] = list(function.process_element("{oops", ctx))
    assert tag is fn.DLQ_TAG
    letter = json.loads(row[1])
    assert row[0] == "raw"
    assert (letter["stage"], letter["error_type"]) == ("scorer", "json_invalid")
    future = encode(make_txn("t2", "C1", NOW + timedelta(days=2))).decode()
    [(_, row)] = list(function.process_element(future, ctx))
    assert json.loads(row[1])["error_type"] == "event_time_in_future"
    assert runtime.state.value() is None


def test_scoring_keeps_state_and_emits_scored_alert_and_feed() -> None:
    function, runtime = scorer()
    ctx = FakeCtx()
    for i in range(6):
        out = list(
            function.process_element(
                validated(make_txn(f"h{i}", "C1", NOW - timedelta(hours=20 - i))), ctx
            )
        )
        assert len(out) == 1
    assert runtime.state.value() is not None
    fraud = make_txn("x", "C1", NOW, "3000.00", lat=-3.1, lon=-60.0)
    out = list(function.process_element(validated(fraud), ctx))
    scored, (alert_tag, alert) = out
    assert scored[0] == "C1"
    assert json.loads(scored[1])["is_alert"] is True
    # the store windows' feed rides on the scored row: store, event ms, cents, alert flag
    assert tuple(scored)[2:] == ("S0001-01", int(NOW.timestamp() * 1000), 300000, 1)
    assert alert_tag is fn.ALERT_TAG
    assert json.loads(alert[1])["alert_id"] == alert[0]


def test_hot_customers_are_read_from_flink_state_only_when_not_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    function, runtime = scorer()
    ctx = FakeCtx()
    events = [validated(make_txn(f"h{i}", "C1", NOW - timedelta(hours=20 - i))) for i in range(4)]
    first = [list(function.process_element(value, ctx)) for value in events]
    assert runtime.state.reads == 1  # the first event: nothing held yet
    written = runtime.state.data
    # a restored (re-opened) function holds nothing: it reads what Flink restored, and scores the
    # same as the function that kept the state in memory
    function.open(runtime)
    runtime.state.reads = 0
    runtime.state.update(None)
    again = [list(function.process_element(value, ctx)) for value in events]
    assert runtime.state.reads == 1
    assert runtime.state.data == written
    assert [json.loads(out[0][1])["fraud_score"] for out in again] == [
        json.loads(out[0][1])["fraud_score"] for out in first
    ]
    # past the state TTL (Flink would have expired it) the state is read from Flink again
    later = fn._now() + CUSTOMER_STATE_TTL
    monkeypatch.setattr(fn, "_now", lambda: later)
    list(function.process_element(validated(make_txn("h9", "C1", NOW - timedelta(hours=1))), ctx))
    assert runtime.state.reads == 2


def test_state_reads_are_counted_in_flink_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fn, "COUNT_EVERY", 4)
    function, runtime = scorer()
    for i in range(9):
        customer = "C1" if i % 3 else "C2"  # C2's first event reads Flink's state, the next not
        txn = make_txn(f"h{i}", customer, NOW - timedelta(hours=20 - i))
        list(function.process_element(validated(txn), FakeCtx(key=customer)))
    counted = {name: counter.count for name, counter in runtime.metrics.items()}
    # counted in batches of COUNT_EVERY events: the 9th is not counted yet
    assert counted == {"customerStateHeld": 6, "customerStateReads": 2}


def test_no_hot_customers_reads_flink_state_every_time() -> None:
    function = fn.ScoreTransactions(
        "raw", "rules", "feedback", fn.initial_rules(None, None), None, 300, hot_customers=0
    )
    runtime = FakeRuntime()
    function.open(runtime)
    for i in range(3):
        txn = make_txn(f"h{i}", "C1", NOW - timedelta(hours=5 - i))
        list(function.process_element(validated(txn), FakeCtx()))
    assert runtime.state.reads == 3


def test_rule_updates_and_feedback_use_broadcast_state() -> None:
    function, _ = scorer()
    ctx = FakeCtx()
    v2 = RuleSet(version=2, created_at=NOW, alert_threshold=0.9)
    assert list(function.process_broadcast_element((fn.RULES, encode(v2).decode()), ctx)) == []
    assert fn.RULES_KEY in ctx.broadcast
    [(tag, row)] = list(function.process_broadcast_element((fn.RULES, "{bad"), ctx))
    assert tag is fn.DLQ_TAG
    assert json.loads(row[1])["stage"] == "rules"
    feedback = Feedback(
        transaction_id="t1",
        customer_id="C1",
        merchant_id="M0001",
        label=Label.FRAUD,
        source=FeedbackSource.CHARGEBACK,
        reported_at=NOW,
    )
    assert (
        list(function.process_broadcast_element((fn.FEEDBACK, encode(feedback).decode()), ctx))
        == []
    )
    assert "m:M0001" in ctx.broadcast
    [(tag, row)] = list(function.process_broadcast_element((fn.FEEDBACK, "[]"), ctx))
    assert json.loads(row[1])["source_topic"] == "feedback"
    # A restored instance (empty caches) reads rules and merchant risk back from the state.
    restored, _ = scorer()
    [scored, *_] = list(restored.process_element(validated(make_txn("t9", "C9", NOW)), ctx))
    body = json.loads(scored[1])
    assert body["rules_version"] == 2
    merchant = [c for c in body["rule_contributions"] if c["rule_id"] == "MERCHANT"]
    assert merchant
    assert merchant[0]["score"] > 0


def test_a_repeated_label_is_one_fact_in_the_broadcast_state() -> None:
    """fraud.feedback delivered twice (an outbox relay killed between publishing and marking the
    row sent) or a verdict re-labelled: the merchant keeps one label per (transaction, source)."""
    from streamflow.scoring.core import MerchantLabels

    function, _ = scorer()
    ctx = FakeCtx()
    label = Feedback(
        transaction_id="t1",
        customer_id="C1",
        merchant_id="M0001",
        label=Label.FRAUD,
        source=FeedbackSource.ANALYST,
        reported_at=NOW,
    )
    relabel = label.model_copy(update={"label": Label.LEGIT, "reported_at": NOW + timedelta(1)})
    for record in (label, label, relabel, relabel):
        assert (
            list(function.process_broadcast_element((fn.FEEDBACK, encode(record).decode()), ctx))
            == []
        )
    kept = MerchantLabels.from_bytes(ctx.broadcast["m:M0001"])
    assert (kept.whens, kept.frauds) == ([(NOW + timedelta(1)).timestamp()], [False])


def test_window_query_has_one_select_per_size() -> None:
    query = window_query("feed", (60, 3600))
    assert query.count("SELECT") == 2
    assert "INTERVAL '1' MINUTE" in query
    assert "INTERVAL '60' MINUTE" in query
    assert "MOD(MIN(event_ms), 3600000)" in query
    with pytest.raises(ValueError, match="whole minutes"):
        window_query("feed", (90,))


def test_amounts_to_cents() -> None:
    assert to_cents(Decimal("12.34")) == 1234
    assert to_cents(Decimal("0.01")) == 1


def test_initial_rules_from_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"version": 3, "alert_threshold": 0.7}))
    rules = fn.initial_rules(path, None)
    assert (rules.version, rules.alert_threshold) == (3, 0.7)


def test_customer_state_ttl_is_built_and_read_without_the_jvm_gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A TaskManager's Python has no py4j gateway: reading the TTL config as PyFlink's
    ``to_java_state_ttl_config`` does must not need one (it did with PyFlink's defaults)."""
    import pyflink.common.time as flink_time

    from streamflow.scoring.state_config import CUSTOMER_STATE_TTL

    def no_gateway() -> None:
        raise AssertionError("the py4j gateway was used")

    monkeypatch.setattr(flink_time, "get_gateway", no_gateway)
    ttl = fn.customer_state_ttl()
    strategies = ttl.get_cleanup_strategies()
    assert not strategies.is_cleanup_in_background()
    assert not strategies.in_full_snapshot()
    incremental = strategies.get_incremental_cleanup_strategy()
    assert (incremental.get_cleanup_size(), incremental.run_cleanup_for_every_record()) == (
        5,
        False,
    )
    compaction = strategies.get_rocksdb_compact_filter_cleanup_strategy()
    assert compaction.get_query_time_after_num_entries() == 1000
    assert ttl.get_ttl().to_milliseconds() == CUSTOMER_STATE_TTL.total_seconds() * 1000


def _model_release(version: str, slot: str, threshold: float = 6.9) -> str:
    from streamflow.events import ModelSlot
    from streamflow.scoring.gbdt import stump
    from streamflow.scoring.model_release import release_of

    model = stump(version, "log_amount", threshold)
    release = release_of(model, model_name="m", slot=ModelSlot(slot), published_at=NOW)
    return encode(release).decode()


def test_model_releases_fill_the_slots_and_bad_ones_are_dead_lettered() -> None:
    function, _runtime = scorer()
    ctx = FakeCtx()
    shadow = _model_release("a", "shadow")
    assert not list(function.process_broadcast_element((fn.MODELS, shadow), ctx))
    txn = make_txn("m-1", "C-M", NOW - timedelta(minutes=1), "2500.00")
    scored = next(iter(function.process_element(validated(txn), ctx)))
    body = json.loads(scored[1])
    assert body["shadow_model_version"] == "a"
    assert body["shadow_score"] > 0.9
    assert body["is_alert"] is False
    # promotion: the shadow's version becomes current, the shadow slot empties
    list(function.process_broadcast_element((fn.MODELS, _model_release("a", "current")), ctx))
    assert set(ctx.broadcast) >= {"model:current"}
    assert "model:shadow" not in ctx.broadcast
    out = list(function.process_element(validated(make_txn("m-2", "C-M2", NOW, "2500.00")), ctx))
    body = json.loads(out[0][1])
    assert body["model_version"] == "a"
    assert body["is_alert"] is True
    # a release that lies about its bytes is refused; the current model stays
    bad = json.loads(_model_release("b", "current"))
    bad["sha256"] = "0" * 64
    (letter,) = list(function.process_broadcast_element((fn.MODELS, json.dumps(bad)), ctx))
    assert letter[0] is fn.DLQ_TAG
    assert json.loads(letter[1][1])["error_type"] == "model_checksum_mismatch"
    # a restarted instance restores both slots from the broadcast state
    list(function.process_broadcast_element((fn.MODELS, _model_release("c", "shadow")), ctx))
    again, _ = scorer()
    out = list(again.process_element(validated(make_txn("m-3", "C-M3", NOW, "50.00")), ctx))
    body = json.loads(out[0][1])
    assert (body["model_version"], body["shadow_model_version"]) == ("a", "c")


def test_card_labels_feed_the_card_features() -> None:
    function, _ = scorer()
    ctx = FakeCtx()
    list(function.process_broadcast_element((fn.MODELS, _model_release("a", "shadow")), ctx))
    feedback = Feedback(
        transaction_id="old-1",
        customer_id="C-K",
        merchant_id="M-K",
        card_id="K-C-K",
        label=Label.FRAUD,
        source=FeedbackSource.CHARGEBACK,
        reported_at=NOW - timedelta(days=2),
    )
    list(function.process_broadcast_element((fn.FEEDBACK, encode(feedback).decode()), ctx))
    # a legit label of an unknown card keeps no state for it
    legit = feedback.model_copy(update={"card_id": "K-OTHER", "label": Label.LEGIT})
    list(function.process_broadcast_element((fn.FEEDBACK, encode(legit).decode()), ctx))
    assert "c:K-C-K" in ctx.broadcast
    assert "c:K-OTHER" not in ctx.broadcast
    txn = make_txn("k-1", "C-K", NOW - timedelta(minutes=1), "80.00")
    scored = next(iter(function.process_element(validated(txn), ctx)))
    from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

    features = dict(zip(SUPERVISED_FEATURE_NAMES, json.loads(scored[1])["features"], strict=True))
    assert features["card_frauds_90d"] == 1.0
    assert features["merchant_frauds_7d"] == 0.0  # another merchant


def test_the_starter_model_is_current_until_a_release_replaces_it(tmp_path: Path) -> None:
    from streamflow.scoring.gbdt import stump

    starter = tmp_path / "fraud-gbdt.npz"
    starter.write_bytes(stump("starter", "log_amount", 6.9).to_bytes())
    function = fn.ScoreTransactions(
        "raw", "rules", "feedback", fn.initial_rules(None, None), None, 300, "models", starter
    )
    function.open(FakeRuntime())
    ctx = FakeCtx()
    out = list(function.process_element(validated(make_txn("s-1", "C-S", NOW, "2500.00")), ctx))
    body = json.loads(out[0][1])
    assert (body["model_version"], body["is_alert"]) == ("starter", True)
    assert out[1][0] is fn.ALERT_TAG
    list(function.process_broadcast_element((fn.MODELS, _model_release("a", "current")), ctx))
    out = list(function.process_element(validated(make_txn("s-2", "C-S2", NOW, "50.00")), ctx))
    assert json.loads(out[0][1])["model_version"] == "a"
    # a missing starter file: no supervised model, the anomaly model's version as before
    missing = fn.ScoreTransactions(
        "raw",
        "rules",
        "feedback",
        fn.initial_rules(None, None),
        None,
        300,
        "models",
        tmp_path / "absent.npz",
    )
    missing.open(FakeRuntime())
    out = list(missing.process_element(validated(make_txn("s-3", "C-S3", NOW, "50.00")), FakeCtx()))
    assert json.loads(out[0][1])["model_version"] != "starter"


def test_cards_idle_for_over_a_year_leave_the_broadcast_state() -> None:
    function = fn.ScoreTransactions(
        "raw", "rules", "feedback", fn.initial_rules(None, None), None, 300, card_sweep_every=3
    )
    function.open(FakeRuntime())
    ctx = FakeCtx()
    list(function.process_broadcast_element((fn.MODELS, _model_release("a", "shadow")), ctx))

    def fraud(card: str, days_ago: float) -> None:
        feedback = Feedback(
            transaction_id=f"t-{card}-{days_ago}",
            customer_id="C-Y",
            merchant_id="M-Y",
            card_id=card,
            label=Label.FRAUD,
            source=FeedbackSource.CHARGEBACK,
            reported_at=NOW - timedelta(days=days_ago),
        )
        list(function.process_broadcast_element((fn.FEEDBACK, encode(feedback).decode()), ctx))

    fraud("K-OLD", 500)
    fraud("K-YEAR", 300)
    assert {"c:K-OLD", "c:K-YEAR"} <= set(ctx.broadcast)
    fraud("K-NEW", 1)  # the third feedback sweeps: K-OLD is 499 days behind the newest report
    assert "c:K-OLD" not in ctx.broadcast
    assert {"c:K-YEAR", "c:K-NEW", "model:shadow"} <= set(ctx.broadcast)
    # the dropped card scores as a card with no labels, as it did before it was dropped
    txn = make_txn("y-1", "OLD", NOW, "80.00")  # its card is K-OLD
    body = json.loads(next(iter(function.process_element(validated(txn), ctx)))[1])
    from streamflow.scoring.supervised_features import NO_FRAUD_DAYS, SUPERVISED_FEATURE_NAMES

    features = dict(zip(SUPERVISED_FEATURE_NAMES, body["features"], strict=True))
    assert features["card_frauds_90d"] == 0.0
    assert features["card_log_days_since_fraud"] == pytest.approx(math.log1p(NO_FRAUD_DAYS))


def test_the_merchant_traffic_ahead_of_a_value_reaches_the_features() -> None:
    from streamflow.events import DeadLetter, decode
    from streamflow.fraud_scorer.records import TRAFFIC_SEPARATOR, split_traffic
    from streamflow.scoring.context import NO_TRAFFIC
    from streamflow.scoring.gbdt import stump
    from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

    raw = validated(make_txn("tr-1", "C-TR", NOW, "50.00"))
    weird = '{"a":"x' + TRAFFIC_SEPARATOR + '"}'
    assert split_traffic(f"3,20,90{TRAFFIC_SEPARATOR}{raw}") == ((3, 20, 90), raw)
    assert split_traffic(f"{TRAFFIC_SEPARATOR}{weird}") == (NO_TRAFFIC, weird)
    assert split_traffic(raw) == (NO_TRAFFIC, raw)
    function, _ = scorer()
    function._starter = stump("s", "log_amount", 100.0)  # any model: the vector is emitted
    scored = next(iter(function.process_element(f"3,20,90{TRAFFIC_SEPARATOR}{raw}", FakeCtx())))
    features = dict(zip(SUPERVISED_FEATURE_NAMES, json.loads(scored[1])["features"], strict=True))
    assert features["merchant_log_payments_7d"] == pytest.approx(math.log1p(20))
    assert features["merchant_log_payments_30d"] == pytest.approx(math.log1p(90))
    tag, row = next(iter(function.process_element(f"1,1,1{TRAFFIC_SEPARATOR}{weird}", FakeCtx())))
    assert tag is fn.DLQ_TAG
    letter = decode(DeadLetter, row[1])  # the raw value, its counts stripped
    payload = letter.payload.encode()
    if letter.payload_encoding.value == "base64":
        payload = base64.b64decode(payload)
    assert payload == weird.encode()
