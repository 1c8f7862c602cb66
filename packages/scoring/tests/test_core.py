"""The core API the Flink job calls: purity, alerts, validation, rule updates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from scoring_testdata import T0, MakeTxn

from streamflow.events import (
    ContractError,
    RuleSet,
    Severity,
    Transaction,
    alert_id_for,
    encode,
    policy,
)
from streamflow.scoring import (
    CustomerState,
    EventTimeInFuture,
    RuleUpdateRejected,
    apply_rule_update,
    default_rules,
    features,
    score_transaction,
    validate_transaction,
)
from streamflow.scoring.core import EventTimeTooOld, score_transaction_json
from streamflow.scoring.features import FEATURE_NAMES

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def build_history(make_txn: MakeTxn, n: int = 6) -> CustomerState:
    state = None
    for day in range(n):
        txn = make_txn(amount=Decimal("516.00"), event_time=T0 - timedelta(days=n - day))
        state, _, _ = score_transaction(state, txn, default_rules(), 0.0, None, NOW)
    assert state is not None
    return state


def test_score_is_pure_and_deterministic(make_txn: MakeTxn) -> None:
    state = build_history(make_txn)
    before = state.to_bytes()
    txn = make_txn(amount=Decimal("4800.00"))
    first = score_transaction(state, txn, default_rules(), 0.3, None, NOW)
    second = score_transaction(state, txn, default_rules(), 0.3, None, NOW)
    assert state.to_bytes() == before
    assert first[1] == second[1]
    assert first[2] == second[2]
    assert first[2] is not None
    assert first[0].count == state.count  # an alerted payment stays out of the baseline
    assert first[0].last_time == txn.event_time.timestamp()


def test_reusing_the_state_updates_it_in_place_with_the_same_outputs(make_txn: MakeTxn) -> None:
    """The job's path (``reuse_state=True``) returns the state it was given, updated, and the
    same records and state as the copying path."""
    rules = default_rules()
    for amount in ("516.00", "4800.00"):
        txn = make_txn(amount=Decimal(amount))
        kept = build_history(make_txn)
        copied_after, copied = score_transaction_json(kept, txn, rules, 0.3, None, NOW)
        reused = CustomerState.from_bytes(kept.to_bytes())
        reused_after, out = score_transaction_json(
            reused, txn, rules, 0.3, None, NOW, reuse_state=True
        )
        assert reused_after is reused
        assert copied_after is not kept
        assert reused_after.to_bytes() == copied_after.to_bytes() != kept.to_bytes()
        assert (out.scored, out.alert_id, out.alert) == (
            copied.scored,
            copied.alert_id,
            copied.alert,
        )
    new_after, _ = score_transaction_json(None, txn, rules, 0.3, None, NOW, reuse_state=True)
    assert (new_after.count, new_after.recent) == (1, [txn.event_time.timestamp()])


def test_alert_carries_sorted_rules_and_sentences(make_txn: MakeTxn) -> None:
    state = build_history(make_txn)
    txn = make_txn(amount=Decimal("4800.00"))
    rules = default_rules()
    _, scored, alert = score_transaction(state, txn, rules, 0.5, None, NOW)
    assert scored.is_alert
    assert alert is not None
    assert alert.alert_id == alert_id_for(txn.transaction_id, rules.version)
    assert alert.severity is Severity.from_score(alert.score)
    contributions = [r.contribution for r in alert.triggered_rules]
    assert contributions == sorted(contributions, reverse=True)
    assert {r.rule_id for r in alert.triggered_rules} >= {"FR-001", "MERCHANT"}
    assert scored.reasons[0] == alert.triggered_rules[0].explanation
    assert alert.rules_version == scored.rules_version == rules.version
    assert scored.model_version is None
    assert scored.ml_score is None


def test_quiet_transaction_has_no_alert(make_txn: MakeTxn) -> None:
    state = build_history(make_txn)
    _, scored, alert = score_transaction(state, make_txn(), default_rules(), 0.0, None, NOW)
    assert alert is None
    assert not scored.is_alert
    assert scored.reasons == []
    assert {c.rule_id for c in scored.rule_contributions} >= {"FR-001", "FR-005", "MERCHANT"}


def test_features_have_the_declared_length(make_txn: MakeTxn) -> None:
    state = build_history(make_txn)
    assert len(features(None, make_txn())) == len(FEATURE_NAMES)
    assert len(features(state, make_txn(device_id="D1"))) == len(FEATURE_NAMES)


def test_validate_transaction(make_txn: MakeTxn) -> None:
    ok = make_txn(event_time=NOW + timedelta(minutes=4))
    assert validate_transaction(encode(ok), NOW) == ok
    future = make_txn(event_time=NOW + timedelta(hours=1))
    with pytest.raises(EventTimeInFuture) as info:
        validate_transaction(encode(future), NOW)
    assert info.value.error_type == "event_time_in_future"
    assert isinstance(info.value, ContractError)
    with pytest.raises(ContractError):
        validate_transaction(b'{"transaction_id": 1}', NOW)


def test_validate_transaction_applies_the_validation_policy(make_txn: MakeTxn) -> None:
    at_bound = make_txn(event_time=NOW + policy.MAX_FUTURE_SKEW)
    assert validate_transaction(encode(at_bound), NOW) == at_bound
    beyond = make_txn(event_time=NOW + policy.MAX_FUTURE_SKEW + timedelta(microseconds=1))
    with pytest.raises(EventTimeInFuture) as future:
        validate_transaction(encode(beyond), NOW)
    assert future.value.error_type == policy.EVENT_TIME_IN_FUTURE
    # the policy is the default; an explicit skew (the setting's override) replaces it
    assert validate_transaction(encode(beyond), NOW, policy.MAX_FUTURE_SKEW * 2) == beyond
    earliest = make_txn(event_time=policy.EARLIEST_EVENT_TIME)
    assert validate_transaction(encode(earliest), NOW) == earliest
    before = make_txn(event_time=policy.EARLIEST_EVENT_TIME - timedelta(microseconds=1))
    with pytest.raises(EventTimeTooOld) as old:
        validate_transaction(encode(before), NOW)
    assert old.value.error_type == policy.EVENT_TIME_TOO_OLD
    assert isinstance(old.value, ContractError)
    unknown = json.loads(encode(make_txn()))
    unknown["schema_version"] = Transaction.SCHEMA_VERSION + 1
    with pytest.raises(ContractError) as version:
        validate_transaction(json.dumps(unknown), NOW)
    assert version.value.error_type == policy.UNSUPPORTED_SCHEMA_VERSION


def rules_bytes(**update: object) -> bytes:
    return encode(default_rules().model_copy(update=update))


def test_apply_rule_update() -> None:
    current = default_rules()
    newer = apply_rule_update(rules_bytes(version=2, alert_threshold=0.7), current)
    assert newer.version == 2
    assert newer.alert_threshold == 0.7
    assert apply_rule_update(encode(current), current) is current
    assert apply_rule_update(encode(current), None) == current


@pytest.mark.parametrize(
    ("raw", "error_type"),
    [
        (b"not json", "invalid_rule_set"),
        (rules_bytes(alert_threshold=0.9), "rule_set_not_newer"),
        (rules_bytes(rule_set_id="other", version=5), "rule_set_id_mismatch"),
    ],
)
def test_rejected_rule_updates(raw: bytes, error_type: str) -> None:
    with pytest.raises(RuleUpdateRejected) as info:
        apply_rule_update(raw, default_rules())
    assert info.value.error_type == error_type
    assert info.value.reason


def test_invalid_values_are_rejected() -> None:
    raw = encode(default_rules()).replace(b'"alert_threshold":0.5', b'"alert_threshold":7')
    with pytest.raises(RuleUpdateRejected, match="alert_threshold"):
        apply_rule_update(raw, None)


def test_default_rules_with_blacklist(blacklist_file: Path) -> None:
    rules = default_rules(blacklist_file)
    assert isinstance(rules, RuleSet)
    assert rules.blacklist.card_ids == frozenset({"K-STOLEN-1"})
    assert rules.version == 1
