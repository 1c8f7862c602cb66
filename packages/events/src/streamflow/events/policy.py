"""The validation policy for events, defined once: every stage that judges an event reads it.

* The contracts build their constraints from it: ``types.Money`` (amount digits and decimals) and
  ``Contract.accepted_versions`` (N and N-1), so every consumer that decodes with
  :func:`streamflow.events.decode` (the scorer, the ingestor) applies those rules.
* The scorer adds the event-time rules, measured against its clock when it scores
  (``validate_transaction``; ``STREAMFLOW_SCORER_MAX_FUTURE_SECONDS`` can override the skew).
* The warehouse mirrors every value as dbt project vars (``policy_*`` in ``dbt/dbt_project.yml``),
  generated from this module by ``scripts/warehouse/policy_vars.py``; a test fails when they drift.

A rejection under one of these rules carries the same reason code at every stage (dead letters
of the scorer and the ingestor, ``silver.stg_transactions_rejects``). See docs/adr/0059.
Nothing here imports a contract at module level: the contracts import this module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

MAX_FUTURE_SKEW = timedelta(seconds=300)
"""How far an event time may lie ahead of the clock judging it -- the scorer's clock when it
scores, the broker's append time of the record in the warehouse -- before it is
``event_time_in_future``."""

EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""An event time before this is ``event_time_too_old`` (a zeroed or broken clock, not history)."""

AMOUNT_MAX_DIGITS = 14
"""Digits of an amount in total (bronze and silver store ``numeric(14, 2)``)."""

AMOUNT_DECIMAL_PLACES = 2
"""Decimal places of an amount."""

AMOUNT_MIN = Decimal(1).scaleb(-AMOUNT_DECIMAL_PLACES)
"""The smallest amount: amounts are positive, so one cent (0.01)."""

AMOUNT_MAX = Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES) - AMOUNT_MIN
"""The largest amount the digits allow (999,999,999,999.99)."""

# Reason codes of rejections under this policy (dead-letter ``error_type``, silver
# ``reject_reason``). Amount violations caught by a contract's decode keep pydantic's codes in
# dead letters; the warehouse, judging typed columns, names them with the two amount codes.
UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
EVENT_TIME_IN_FUTURE = "event_time_in_future"
EVENT_TIME_TOO_OLD = "event_time_too_old"
AMOUNT_NOT_POSITIVE = "amount_not_positive"
AMOUNT_TOO_LARGE = "amount_too_large"


def accepted_versions(current: int) -> frozenset[int]:
    """The schema versions a consumer of a contract at version ``current`` accepts: N and N-1."""
    return frozenset({current, max(current - 1, 1)})


def accepted_schema_versions() -> dict[str, tuple[int, ...]]:
    """Per contract (the value model of each topic, by class name): its accepted versions."""
    from streamflow.events.topics import TOPICS  # late: the contracts import this module

    return {
        spec.value_model.__name__: tuple(sorted(spec.value_model.accepted_versions()))
        for spec in TOPICS.values()
    }
