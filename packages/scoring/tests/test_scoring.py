"""The rules, the blend and the human-readable sentences."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from scoring_testdata import MANAUS, T0, MakeTxn

from streamflow.events import BlacklistRule, RuleSet, Transaction
from streamflow.scoring.core import score_view
from streamflow.scoring.customer_state import CustomerState
from streamflow.scoring.rulesets import default_rules
from streamflow.scoring.scoring import PartResult, evaluate, graded, money
from streamflow.scoring.view import make_view


def history(make_txn: MakeTxn, amounts: list[str]) -> CustomerState:
    state: CustomerState | None = None
    for day, amount in enumerate(amounts):
        txn = make_txn(amount=Decimal(amount), event_time=T0 - timedelta(days=len(amounts) - day))
        state, _ = score_view(state, make_view(txn), default_rules(), 0.0, None)
    assert state is not None
    return state


def parts(
    state: CustomerState | None, txn: Transaction, rules: RuleSet | None = None
) -> dict[str, PartResult]:
    ev = evaluate(state, make_view(txn), rules or default_rules(), 0.0, None)
    return {p.rule_id: p for p in ev.parts}


def test_graded_and_money() -> None:
    assert graded(2.9, 3.0) == 0.0
    assert graded(3.0, 3.0) == pytest.approx(0.6)
    assert graded(6.0, 3.0) == 1.0
    assert graded(float("nan"), 3.0) == 0.0
    assert money(4800.0, "BRL") == "R$ 4,800.00"
    assert money(12.5, "USD") == "USD 12.50"


def test_high_value_sentence(make_txn: MakeTxn) -> None:
    state = history(make_txn, ["516.00"] * 6)
    result = parts(state, make_txn(amount=Decimal("4800.00")))["FR-001"]
    assert result.triggered
    assert result.explanation == ("amount R$ 4,800.00 is 9.3x this customer's average of R$ 516.00")
    assert result.contribution == pytest.approx(result.weight * result.score)


def test_high_value_needs_history(make_txn: MakeTxn) -> None:
    state = history(make_txn, ["10.00"] * 4)
    result = parts(state, make_txn(amount=Decimal("4800.00")))["FR-001"]
    assert not result.triggered
    assert "needs 5" in result.explanation


def test_velocity_counts_this_and_prior_events(make_txn: MakeTxn) -> None:
    state = None
    rules = default_rules()
    fired = []
    for i in range(7):
        txn = make_txn(event_time=T0 + timedelta(seconds=20 * i))
        ev = evaluate(state, make_view(txn), rules, 0.0, None)
        fired.append({p.rule_id: p for p in ev.parts}["FR-002"].triggered)
        state, _ = score_view(state, make_view(txn), rules, 0.0, None)
    assert fired == [False] * 5 + [True, True]


def test_impossible_travel(make_txn: MakeTxn) -> None:
    state = history(make_txn, ["50.00"])
    far = make_txn(event_time=T0 - timedelta(minutes=1410), latitude=MANAUS[0], longitude=MANAUS[1])
    result = parts(state, far)["FR-003"]
    assert result.triggered
    assert "km/h" in result.explanation
    assert "no earlier location" in parts(None, far)["FR-003"].explanation
    near = make_txn(event_time=T0 - timedelta(minutes=1410))
    assert not parts(state, near)["FR-003"].triggered


def test_time_of_day(make_txn: MakeTxn) -> None:
    state = None
    for day in range(12):
        txn = make_txn(event_time=T0 - timedelta(days=20 - day))
        state, _ = score_view(state, make_view(txn), default_rules(), 0.0, None)
    night = parts(state, make_txn(event_time=T0 + timedelta(hours=13)))["FR-004"]
    assert night.triggered
    assert "sigma from this customer's usual hour (12:00)" in night.explanation
    assert not parts(state, make_txn(event_time=T0))["FR-004"].triggered
    assert "needs 10" in parts(None, make_txn())["FR-004"].explanation


def test_blacklist_and_blend_cap(make_txn: MakeTxn) -> None:
    rules = default_rules().model_copy(
        update={"blacklist": BlacklistRule(card_ids=frozenset({"K0001-1"}))}
    )
    ev = evaluate(None, make_view(make_txn()), rules, 1.0, None)
    by_id = {p.rule_id: p for p in ev.parts}
    assert by_id["FR-005"].explanation == "card K0001-1 is blacklisted"
    assert by_id["MERCHANT"].triggered
    assert ev.score == 1.0


def test_disabled_rules_are_not_evaluated(make_txn: MakeTxn) -> None:
    base = default_rules()
    rules = base.model_copy(
        update={"velocity": base.velocity.model_copy(update={"enabled": False})}
    )
    assert "FR-002" not in parts(None, make_txn(), rules)
