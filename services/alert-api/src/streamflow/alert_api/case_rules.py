"""The rules of a case's life, as pure functions: which state changes are allowed, what closing
means for its alerts, which alerts may join it (ADR 0100)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from streamflow.alert_api.models import CaseState
from streamflow.events import AnalystVerdict

OPEN_STATES = frozenset({CaseState.OPEN, CaseState.IN_REVIEW})
"""States in which a case may still change."""

_CLOSED = {"fraud": CaseState.CLOSED_FRAUD, "legit": CaseState.CLOSED_LEGIT}
_VERDICT = {"fraud": AnalystVerdict.CONFIRMED_FRAUD, "legit": AnalystVerdict.FALSE_POSITIVE}


def change_refusal(current: CaseState) -> str | None:
    """Why a case in ``current`` may not change any more (None: it may)."""
    if current in OPEN_STATES:
        return None
    return f"the case is {current.value}; a closed case does not change"


def closed_state(outcome: str) -> CaseState:
    """The state a case closed with ``outcome`` (fraud, legit) takes."""
    return _CLOSED[outcome]


def verdict_for(outcome: str) -> AnalystVerdict:
    """The verdict every alert of a case closed with ``outcome`` gets."""
    return _VERDICT[outcome]


def membership_problems(
    wanted: Iterable[uuid.UUID],
    customers: Mapping[uuid.UUID, str],
    cases: Mapping[uuid.UUID, int],
    customer_id: str,
) -> tuple[int, str] | None:
    """The first reason (status, detail) ``wanted`` alerts cannot join a case of
    ``customer_id``: an unknown alert (404), another customer's (409), one already in a case
    (409). Both conflicts are with the alerts' state, not the request's shape, so not 422 (the
    schema admits the request: ADR 0093). ``customers`` maps the known alerts to their
    customer, ``cases`` those in a case to it."""
    for alert_id in wanted:
        if alert_id not in customers:
            return 404, f"no alert {alert_id}"
    for alert_id in wanted:
        if customers[alert_id] != customer_id:
            return 409, (
                f"alert {alert_id} is of customer {customers[alert_id]}, not {customer_id}: "
                "a case holds one customer's alerts"
            )
    for alert_id in wanted:
        if alert_id in cases:
            return 409, f"alert {alert_id} is already in case {cases[alert_id]}"
    return None
