"""Unit tests of the workbench's pure logic: case rules, the re-label rule, the count query."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from streamflow.alert_api import alert_query as q
from streamflow.alert_api import case_rules
from streamflow.alert_api.models import CaseState
from streamflow.alert_api.verdicts import relabel_refusal
from streamflow.events import AnalystVerdict

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_only_open_cases_change() -> None:
    assert case_rules.change_refusal(CaseState.OPEN) is None
    assert case_rules.change_refusal(CaseState.IN_REVIEW) is None
    for closed in (CaseState.CLOSED_FRAUD, CaseState.CLOSED_LEGIT):
        refusal = case_rules.change_refusal(closed)
        assert refusal is not None
        assert closed.value in refusal


def test_outcomes_map_to_states_and_verdicts() -> None:
    assert case_rules.closed_state("fraud") is CaseState.CLOSED_FRAUD
    assert case_rules.closed_state("legit") is CaseState.CLOSED_LEGIT
    assert case_rules.verdict_for("fraud") is AnalystVerdict.CONFIRMED_FRAUD
    assert case_rules.verdict_for("legit") is AnalystVerdict.FALSE_POSITIVE


def test_membership_problems_in_order_unknown_foreign_taken() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    customers = {a: "C1", b: "C2"}
    assert case_rules.membership_problems([a], customers, {}, "C1") is None
    assert case_rules.membership_problems([a, c, b], customers, {}, "C1") == (
        404,
        f"no alert {c}",
    )
    status, detail = case_rules.membership_problems([a, b], customers, {}, "C1") or (0, "")
    assert status == 409
    assert "customer C2" in detail
    assert case_rules.membership_problems([a], customers, {a: 7}, "C1") == (
        409,
        f"alert {a} is already in case 7",
    )


@pytest.mark.parametrize(
    ("current", "changes", "allowed"),
    [
        ("new", 99, True),  # a first verdict is no change
        ("confirmed_fraud", 0, True),
        ("false_positive", 2, True),
        ("false_positive", 3, False),
    ],
)
def test_relabel_limit(current: str, changes: int, allowed: bool) -> None:
    refusal = relabel_refusal(current, changes, 3)
    assert (refusal is None) is allowed
    if refusal is not None:
        assert f"stays {current}" in refusal


def test_count_query_uses_every_filter_but_status_and_caps_each_status() -> None:
    filters = q.AlertFilters(
        merchant_id="M1",
        min_score=0.2,
        max_score=0.8,
        rule_id="FR-001",
        severity="high",
        status="new",
    )
    query = q.build_count_query(filters, 500)
    assert query.cap == 500
    assert query.args == ["M1"]
    assert query.sql.count("merchant_id = $1") == 3
    assert query.sql.count("score >= 0.2::float8") == 3
    assert "score <= 0.8::float8" in query.sql
    assert "rule_ids @> array['FR-001']::text[]" in query.sql
    assert "severity = 'high'" in query.sql
    assert query.sql.count("limit 501") == 3
    for status in q.STATUSES:  # one branch per status, whatever the filter's own status
        assert f"a.status = '{status}' and" in query.sql
    with pytest.raises(ValueError, match="not a count cap"):
        q.build_count_query(filters, 0)


@pytest.mark.parametrize(
    ("filters", "where"),
    [
        (q.AlertFilters(), "rule_id is null"),
        (q.AlertFilters(status="new"), "rule_id is null"),
        (q.AlertFilters(severity="low"), "rule_id is null and severity = 'low'"),
        (q.AlertFilters(rule_id="FR-003"), "rule_id = 'FR-003'"),
        (
            q.AlertFilters(rule_id="FR-003", severity="critical"),
            "rule_id = 'FR-003' and severity = 'critical'",
        ),
    ],
)
def test_severity_and_rule_alone_are_counted_by_the_counters(
    filters: q.AlertFilters, where: str
) -> None:
    assert q.counter_backed(filters)
    query = q.build_count_query(filters, 10)
    assert query == q.CountQuery(
        "select status, sum(alerts)::bigint as alerts from app.alert_counts "
        f"where {where} group by status",
        [],
        None,
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"since": T0},
        {"until": T0},
        {"customer_id": "C1"},
        {"merchant_id": "M1"},
        {"min_score": 0.5},
        {"max_score": 0.5},
    ],
)
def test_any_other_filter_is_a_capped_live_count(extra: dict[str, Any]) -> None:
    filters = q.AlertFilters(severity="high", **extra)
    assert not q.counter_backed(filters)
    query = q.build_count_query(filters, 10)
    assert query.cap == 10
    assert "from app.alerts a" in query.sql


def test_max_score_is_checked_before_it_is_inlined() -> None:
    with pytest.raises(ValueError, match="not a score"):
        q.build_list_query(q.AlertFilters(max_score=1.5), q.SortOrder.NEWEST, None, 10)
    sql, _ = q.build_list_query(q.AlertFilters(max_score=0.5), q.SortOrder.HIGHEST_SCORE, None, 10)
    assert "score <= 0.5::float8" in sql
