"""The ``GET /v1/alerts`` query: filters, sort orders and keyset cursors, always parameterised.

A cursor is the sort key of the last row sent (value + alert_id) and the sort it belongs to,
base64url-encoded JSON; the next page is the rows strictly after it in the same order, so pages
stay stable while alerts arrive and cost the same however deep (no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from streamflow.alert_api.problems import ProblemError


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
    rule_id: str | None = None
    status: str | None = None
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last row of a page."""

    sort: SortOrder
    value: datetime | float
    alert_id: uuid.UUID

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        raw = json.dumps({"s": self.sort.value, "v": value, "id": str(self.alert_id)})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: SortOrder) -> Cursor:
        """Parse a cursor made for ``sort``; anything else is a 400 naming ``cursor``."""
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if raw["s"] != sort.value:
                raise ProblemError(400, "cursor was made for another sort order", field="cursor")
            alert_id = uuid.UUID(str(raw["id"]))
            value: datetime | float
            if sort.column == "detected_at":
                value = datetime.fromisoformat(str(raw["v"]))
                if value.tzinfo is None:
                    raise ValueError("naive timestamp")
            else:
                value = float(raw["v"])
                if not 0.0 <= value <= 1.0:
                    raise ValueError("score out of range")
        except ProblemError:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise ProblemError(400, "malformed cursor", field="cursor") from exc
        return cls(sort, value, alert_id)


SUMMARY_COLUMNS = (
    "alert_id::text, transaction_id, customer_id, merchant_id, amount, score, severity, status, "
    "rule_ids, rules_version, event_time, detected_at"
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


def build_list_query(
    filters: AlertFilters, sort: SortOrder, cursor: Cursor | None, limit: int
) -> tuple[str, list[Any]]:
    """SQL and parameters fetching ``limit + 1`` rows (the extra one says a next page exists)."""
    where: list[str] = []
    args: list[Any] = []

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.since is not None:
        where.append(f"detected_at >= {param(filters.since)}")
    if filters.until is not None:
        where.append(f"detected_at < {param(filters.until)}")
    if filters.customer_id is not None:
        where.append(f"customer_id = {param(filters.customer_id)}")
    if filters.merchant_id is not None:
        where.append(f"merchant_id = {param(filters.merchant_id)}")
    if filters.min_score is not None:
        where.append(f"score >= {param(filters.min_score)}")
    if filters.rule_id is not None:
        where.append(f"rule_ids @> array[{param(filters.rule_id)}]::text[]")
    if filters.status is not None:
        where.append(f"status = {param(filters.status)}")
    if filters.severity is not None:
        where.append(f"severity = {param(filters.severity)}")
    column = sort.column  # from the enum, never from the request text
    direction = "desc" if sort.descending else "asc"
    if cursor is not None:
        op = "<" if sort.descending else ">"
        where.append(f"({column}, alert_id) {op} ({param(cursor.value)}, {param(cursor.alert_id)})")
    # Only constants and enum-derived names are interpolated; every value is a $n parameter.
    sql = f"select {SUMMARY_COLUMNS} from app.alerts a"  # noqa: S608
    if where:
        sql += " where " + " and ".join(where)
    # Qualified: a bare "alert_id" in ORDER BY is the output column alert_id::text, which made
    # PostgreSQL re-sort every page (Incremental Sort) instead of reading the index in order.
    sql += f" order by a.{column} {direction}, a.alert_id {direction} limit {param(limit + 1)}"
    return sql, args


def next_cursor(rows: list[Any], sort: SortOrder, limit: int) -> str | None:
    """The cursor after the page's last row, if more rows exist."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return Cursor(sort, last[sort.column], uuid.UUID(last["alert_id"])).encode()


def summary(row: Any) -> dict[str, Any]:
    """A list row as a JSON-ready dict (AlertSummary's shape)."""
    return dict(zip(SUMMARY_FIELDS, row, strict=True))
