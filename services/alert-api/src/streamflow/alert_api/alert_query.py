"""The ``GET /v1/alerts`` query: filters, sort orders and keyset cursors, always parameterised.

A cursor is the sort key of the last row sent (value + alert_id) and the sort it belongs to,
as plain text of one regular pattern (:class:`Cursor`); the next page is the rows strictly after
it in the same order, so pages stay stable while alerts arrive and cost the same however deep
(no OFFSET).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from streamflow.alert_api.models import AlertStatus
from streamflow.alert_api.problems import ProblemError
from streamflow.events import Severity


class SortOrder(StrEnum):
    """Supported orders (``-`` = descending)."""

    NEWEST = "-detected_at"
    OLDEST = "detected_at"
    HIGHEST_SCORE = "-score"
    LOWEST_SCORE = "score"

    @property
    def column(self) -> str:
        return self.value.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


@dataclass(frozen=True, slots=True)
class AlertFilters:
    """Validated filters of a list request."""

    since: datetime | None = None
    until: datetime | None = None
    customer_id: str | None = None
    merchant_id: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    rule_id: str | None = None
    status: str | None = None
    severity: str | None = None


_SORT_CODE = {
    SortOrder.NEWEST: "n",
    SortOrder.OLDEST: "o",
    SortOrder.HIGHEST_SCORE: "h",
    SortOrder.LOWEST_SCORE: "l",
}
_CODE_SORT = {code: sort for sort, code in _SORT_CODE.items()}
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
CURSOR_PATTERN = rf"^(?:[no][0-9]{{1,16}}|[hl][0-9]{{1,16}}(?:\.[0-9]{{1,32}})?)_{_UUID}$"
"""Every string of this pattern is a cursor the list accepts (the OpenAPI schema states it)."""
CURSOR_MAX_LENGTH = 1 + 16 + 1 + 32 + 1 + 36
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SCORE_PLACES = Decimal(1).scaleb(-32)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last row of a page, in the sort that made it.

    Its text is ``<sort code><value>_<alert id>``: ``n``/``o`` (newest/oldest first) with
    ``detected_at`` as microseconds since 1970, ``h``/``l`` (highest/lowest score first) with the
    score as a decimal. Any text of :data:`CURSOR_PATTERN` is a valid position, so the schema can
    say exactly what is accepted (issue #21); the page follows the cursor's sort.
    """

    sort: SortOrder
    value: datetime | float
    alert_id: uuid.UUID

    def encode(self) -> str:
        return encode_cursor(self.sort, self.value, str(self.alert_id))

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Parse a cursor; text outside :data:`CURSOR_PATTERN` is a 400 naming ``cursor``."""
        if _CURSOR.fullmatch(token) is None:
            raise ProblemError(400, "malformed cursor", field="cursor")
        text, alert_id = token[1:].split("_", 1)
        sort = _CODE_SORT[token[0]]
        # At most 16 digits of microseconds: before the year 2287, in datetime's range.
        time = sort.column == "detected_at"
        value: datetime | float = _EPOCH + int(text) * _MICROSECOND if time else float(text)
        return cls(sort, value, uuid.UUID(alert_id))


_SUMMARY_HEAD = (
    "alert_id::text, transaction_id, customer_id, merchant_id, amount, score, severity, status, "
    "rule_ids, rules_version"
)
SUMMARY_COLUMNS = f"{_SUMMARY_HEAD}, event_time, detected_at"
# The list's columns: the same, with the two timestamps rendered by PostgreSQL as RFC 3339 text
# ("2026-10-04T18:32:43.85+00:00", the pool's sessions run with TimeZone=UTC and DateStyle=ISO)
# instead of decoded into datetime objects and re-encoded: ~100 timestamps per page were a
# quarter of the route's CPU (ADR 0054). ORDER BY and keyset conditions use the table columns.
LIST_COLUMNS = (
    f"{_SUMMARY_HEAD}, replace(a.event_time::text, ' ', 'T') || ':00' as event_time, "
    "replace(a.detected_at::text, ' ', 'T') || ':00' as detected_at"
)
SUMMARY_FIELDS = (
    "alert_id",
    "transaction_id",
    "customer_id",
    "merchant_id",
    "amount",
    "score",
    "severity",
    "status",
    "rule_ids",
    "rules_version",
    "event_time",
    "detected_at",
)


# Values written into the SQL text instead of sent as parameters: only these few,
# low-cardinality ones, each checked here again whatever the caller validated (ADR 0054).
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"  # customer, merchant and rule ids (AlertListParams)
_IDENT = re.compile(IDENT)
STATUSES = frozenset(status.value for status in AlertStatus)
SEVERITIES = frozenset(severity.value for severity in Severity)


def _word(value: str, allowed: frozenset[str] | None = None) -> str:
    """``value`` as a SQL string literal, if it is a plain identifier of at most 64 characters
    (and one of ``allowed``)."""
    if (
        len(value) > 64
        or _IDENT.fullmatch(value) is None
        or (allowed is not None and value not in allowed)
    ):
        raise ValueError(f"not an inlinable value: {value!r}")
    return f"'{value}'"


def _score(value: float) -> str:
    """A score threshold as a float8 literal (finite, 0..1)."""
    if not (isinstance(value, float | int) and 0.0 <= value <= 1.0):
        raise ValueError(f"not a score: {value!r}")
    return f"{float(value)!r}::float8"


def build_list_query(
    filters: AlertFilters, sort: SortOrder, cursor: Cursor | None, limit: int
) -> tuple[str, list[Any]]:
    """SQL and parameters fetching ``limit + 1`` rows (the extra one says a next page exists).

    Customer, merchant, time bounds and cursor values are ``$n`` parameters. Status, severity,
    rule id, score threshold and page size are written into the text (checked by ``_word`` /
    ``_score``): they have a handful of values each, and with them known PostgreSQL can keep one
    generic plan per statement instead of planning every execution again — while a statement
    whose plan does depend on a parameter (a time range against the score sort) still gets
    custom plans (plan_cache_mode ``auto``).
    """
    args: list[Any] = []

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = _conditions(filters, param)
    column = sort.column  # from the enum, never from the request text
    direction = "desc" if sort.descending else "asc"
    if cursor is not None:
        op = "<" if sort.descending else ">"
        where.append(f"({column}, alert_id) {op} ({param(cursor.value)}, {param(cursor.alert_id)})")
    if not 1 <= limit <= 10_000:
        raise ValueError(f"not a page size: {limit!r}")
    # Only constants, enum-derived names and the checked values above are interpolated.
    sql = f"select {LIST_COLUMNS} from app.alerts a"  # noqa: S608
    if where:
        sql += " where " + " and ".join(where)
    # Qualified: a bare "alert_id" in ORDER BY is the output column alert_id::text, which made
    # PostgreSQL re-sort every page (Incremental Sort) instead of reading the index in order.
    sql += f" order by a.{column} {direction}, a.alert_id {direction} limit {int(limit) + 1}"
    return sql, args


def _conditions(filters: AlertFilters, param: Callable[[Any], str]) -> list[str]:
    """The WHERE conditions of ``filters`` (see :func:`build_list_query` for what is inlined)."""
    where: list[str] = []
    if filters.since is not None:
        where.append(f"detected_at >= {param(filters.since)}")
    if filters.until is not None:
        where.append(f"detected_at < {param(filters.until)}")
    if filters.customer_id is not None:
        where.append(f"customer_id = {param(filters.customer_id)}")
    if filters.merchant_id is not None:
        where.append(f"merchant_id = {param(filters.merchant_id)}")
    if filters.min_score is not None:
        where.append(f"score >= {_score(filters.min_score)}")
    if filters.max_score is not None:
        where.append(f"score <= {_score(filters.max_score)}")
    if filters.rule_id is not None:
        where.append(f"rule_ids @> array[{_word(filters.rule_id)}]::text[]")
    if filters.status is not None:
        where.append(f"status = {_word(filters.status, STATUSES)}")
    if filters.severity is not None:
        where.append(f"severity = {_word(filters.severity, SEVERITIES)}")
    return where


@dataclass(frozen=True, slots=True)
class CountQuery:
    """The SQL of the queue counts for one filter: rows ``(status, alerts)``.

    ``cap``: None when the counts are exact (read from the counters of V047); otherwise each
    status is counted up to ``cap + 1`` alerts, and a status at ``cap + 1`` has more than ``cap``.
    """

    sql: str
    args: list[Any]
    cap: int | None


def counter_backed(filters: AlertFilters) -> bool:
    """Whether the counters answer ``filters`` exactly: no filter but severity and rule id."""
    return (
        filters.since is None
        and filters.until is None
        and filters.customer_id is None
        and filters.merchant_id is None
        and filters.min_score is None
        and filters.max_score is None
    )


def build_count_query(filters: AlertFilters, cap: int) -> CountQuery:
    """The alerts of ``filters`` per status (the queues; ``filters.status`` is ignored).

    Severity and rule id alone, or no filter: exact, a sum over ``app.alert_counts`` (V047: per
    status, severity and rule id, kept by triggers on app.alerts; a few hundred rows between two
    rollups), whatever the number of alerts. Any other filter: counted live in ``app.alerts``,
    one branch per status stopped after ``cap + 1`` alerts, so the cost of a broad filter is
    bounded by the cap instead of growing with the alerts (ADR 0100).
    """
    if counter_backed(filters):
        where = [
            "rule_id is null" if filters.rule_id is None else f"rule_id = {_word(filters.rule_id)}"
        ]
        if filters.severity is not None:
            where.append(f"severity = {_word(filters.severity, SEVERITIES)}")
        sql = (
            "select status, sum(alerts)::bigint as alerts from app.alert_counts "  # noqa: S608
            f"where {' and '.join(where)} group by status"
        )
        return CountQuery(sql, [], None)
    if not 1 <= cap <= 1_000_000:
        raise ValueError(f"not a count cap: {cap!r}")
    args: list[Any] = []

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = _conditions(replace(filters, status=None), param)
    branches = [
        # Only constants, enum values and the checked values of _conditions are interpolated.
        f"select {_word(status, STATUSES)}::text as status, count(*) as alerts from ("  # noqa: S608
        f"select from app.alerts a where a.status = {_word(status, STATUSES)} and "
        f"{' and '.join(where)} limit {int(cap) + 1}) as s"
        for status in sorted(STATUSES)
    ]
    return CountQuery(" union all ".join(branches), args, cap)


def encode_cursor(sort: SortOrder, value: datetime | str | float, alert_id: str) -> str:
    """The text of a :class:`Cursor` (``value``: a score, or a timestamp, maybe RFC 3339 text)."""
    if sort.column == "detected_at":
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(when, datetime), value
        text = str(max(0, (when - _EPOCH) // _MICROSECOND))
    else:
        text = _score_text(float(value), up=sort.descending)  # type: ignore[arg-type]
    return f"{_SORT_CODE[sort]}{text}_{alert_id}"


def _score_text(score: float, *, up: bool) -> str:
    """The score in positional decimal (exact, shortest), at most 32 decimals.

    A score below 1e-16 with more decimals is rounded towards the rows already sent (``up`` for
    a descending page): the next page may repeat a row, never skip one.
    """
    exact = Decimal(repr(score))
    exponent = exact.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -32:
        exact = exact.quantize(_SCORE_PLACES, ROUND_CEILING if up else ROUND_FLOOR)
    text = format(exact, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def next_cursor(rows: list[Any], sort: SortOrder, limit: int) -> str | None:
    """The cursor after the page's last row (LIST_COLUMNS), if more rows exist.

    Straight from the row's text (the alert id and an RFC 3339 timestamp, both as PostgreSQL
    printed them), without parsing them into uuid/datetime only to print them again.
    """
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(sort, last[sort.column], last["alert_id"])


def summary(row: Any) -> dict[str, Any]:
    """A list row as a JSON-ready dict (AlertSummary's shape)."""
    # Not strict: the columns are constants of this module, and the check cost ~0.5 us per row.
    return dict(zip(SUMMARY_FIELDS, row, strict=False))
