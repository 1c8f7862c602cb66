"""The rule what-if's pure parts: the replay's counting, warm-up, labels and examples; the draft's
parsing and schema; the worker's duty cycle (no database, no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from streamflow.alert_api.problems import ProblemError
from streamflow.alert_api.rule_sets import (
    DRAFT,
    MAX_VERSION,
    check_publishable,
    declare_draft_schema,
    parse_draft,
)
from streamflow.alert_api.whatif import FRAUD, UNLABELLED, LabelEvent, StoredRow, WhatIf, row_view
from streamflow.alert_api.whatif_worker import DutyCycle
from streamflow.events import RuleSet

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC).timestamp()


def _rules(**update: object) -> RuleSet:
    return RuleSet(version=1, created_at=datetime.now(UTC)).model_copy(update=update)


def _row(n: int, customer: str, at: float, label: int = 0) -> StoredRow:
    view = row_view(f"t{n}", at, customer, None, "M1", 20.0, "BRL", "pos", None, None)
    return StoredRow(view, label, FRAUD if label else UNLABELLED)


def test_warm_up_rows_feed_state_but_are_not_counted() -> None:
    base = _rules()
    lower = base.model_copy(
        update={"version": 2, "velocity": base.velocity.model_copy(update={"max_count": 2})}
    )
    window_start = T0 + 3600
    whatif = WhatIf(base, lower, window_start)
    # Two payments in the warm-up, two in the window, within ten minutes: the window's first
    # is already the third of the burst (velocity counts the warm-up's two).
    for n, at in enumerate(
        (window_start - 120, window_start - 60, window_start, window_start + 60)
    ):
        whatif.feed(_row(n, "C1", at, label=int(n == 3)))
    result = whatif.result()
    assert (result["rows"], result["warmup_rows"]) == (2, 2)
    assert result["before"]["alerts"] == 0
    assert result["after"]["alerts"] == 2
    assert result["alerts_added"] == 2
    assert result["frauds_added"] == 1
    assert result["labels"] == {"fraud": 1, "legit": 0, "unlabelled": 1}
    assert result["changes"] == ["velocity.max_count: 5 -> 2"]
    assert [e["transaction_id"] for e in result["examples"]] == ["t2", "t3"]
    assert result["examples"][1]["label"] == FRAUD
    assert result["examples"][1]["rules_after"] == ["FR-002"]
    assert result["after"]["caught"] == 1
    assert result["after"]["recall"] == 1.0


def test_verdicts_feed_merchant_risk_from_when_they_were_given() -> None:
    rules = _rules(alert_threshold=0.3)
    label = LabelEvent(T0 + 100, "M1", True)
    whatif = WhatIf(rules, rules, T0, [label])
    whatif.feed(_row(1, "C1", T0 + 50))
    assert whatif.base.merchants == {}
    whatif.feed(_row(2, "C2", T0 + 200))
    assert whatif.base.merchants["M1"].fraud > 0
    assert whatif.candidate.merchants["M1"].fraud > 0


def test_removed_alerts_are_examples_too() -> None:
    rules = _rules()
    silent = rules.model_copy(
        update={"version": 2, "velocity": rules.velocity.model_copy(update={"enabled": False})}
    )
    whatif = WhatIf(rules, silent, T0)
    for n in range(7):
        whatif.feed(_row(n, "C1", T0 + n))
    result = whatif.result()
    assert result["alerts_removed"] == result["before"]["alerts"] > 0
    assert {e["change"] for e in result["examples"]} == {"removed"}
    per_rule = {r["rule_id"]: r for r in result["per_rule"]}
    assert per_rule["FR-002"]["after"] == {
        "fired": 0,
        "fired_on_fraud": 0,
        "precision": None,
        "recall": None,
    }


def test_a_draft_is_stamped_and_integral_numbers_are_integers() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rules = parse_draft(b'{"version": 3.0, "velocity": {"max_count": 2.0}}', now)
    assert (rules.version, rules.velocity.max_count, rules.created_at) == (3, 2, now)
    for body, field in (
        (b'{"version": 2, "created_at": "2026-12-01T00:00:00Z"}', "body.created_at"),
        (b'{"version": 2.5}', "body.version"),
        (b"[]", "body"),
        (b"not json", "body"),
        (json.dumps({"version": MAX_VERSION + 1}).encode(), "body.version"),
    ):
        with pytest.raises(ProblemError) as caught:
            parse_draft(body)
        assert caught.value.status == 422
        assert caught.value.field == field


def test_publishable_only_when_newer_and_followed() -> None:
    current = _rules(version=4)
    check_publishable(_rules(version=5), current, from_topic=True)
    for candidate, field in (
        (_rules(version=4), "body.version"),
        (_rules(version=5, rule_set_id="other"), "body.rule_set_id"),
    ):
        with pytest.raises(ProblemError) as caught:
            check_publishable(candidate, current, from_topic=True)
        assert (caught.value.status, caught.value.field) == (409, field)


def test_the_draft_schema_states_the_contracts_checks() -> None:
    schemas = declare_draft_schema({})["components"]["schemas"]
    draft = schemas[DRAFT]
    assert "created_at" not in draft["properties"]
    assert draft["required"] == ["version"]
    assert draft["properties"]["version"]["maximum"] == MAX_VERSION
    assert draft["properties"]["schema_version"]["enum"] == [1]
    assert len(draft["anyOf"]) == 7
    assert schemas[f"{DRAFT}_VelocityRule"]["properties"]["schema_version"]["enum"] == [1]
    blacklist = schemas[f"{DRAFT}_BlacklistRule"]["properties"]["card_ids"]
    assert "uniqueItems" not in blacklist


def test_the_duty_cycle_pays_back_cpu_time_with_sleep() -> None:
    ticks = iter([0.0, 1.0, 1.5])
    duty = DutyCycle(0.25, clock=lambda: next(ticks))
    assert duty.pause_s() == pytest.approx(3.0)  # 1 s of CPU at a quarter share: 3 s asleep
    assert duty.pause_s() == pytest.approx(1.5)


def test_row_view_fills_unknowns() -> None:
    view = row_view("t", 1.0, "C", None, "M", None, None, None, None, None)
    assert (view.card_id, view.amount, view.currency, view.device) == ("", 0.0, "", -1)
    assert not view.has_location
    assert row_view("t", 1.0, "C", "K", "M", 1.0, "BRL", "pos", 1.0, 2.0).has_location


def test_the_worker_lowers_its_priority_and_caps_its_cpu() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import os, resource\n"
        "from streamflow.alert_api.config import Settings\n"
        "from streamflow.alert_api.whatif_worker import lower_priority\n"
        "before = os.nice(0)\n"
        "lower_priority(Settings(whatif_nice=7, whatif_max_seconds=100, whatif_cpu_share=0.5))\n"
        "print(os.nice(0) - before, resource.getrlimit(resource.RLIMIT_CPU)[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    niced, cpu_limit = out.stdout.split()
    assert int(niced) == min(7, 19 - os.nice(0))  # niceness stops at 19
    assert int(cpu_limit) == 100 * 0.5 + 30
