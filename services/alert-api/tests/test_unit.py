"""Pure logic: cursors, query building, keys, rate limits, the key cache, settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import pytest

from streamflow.alert_api.alert_query import (
    AlertFilters,
    Cursor,
    SortOrder,
    build_list_query,
    next_cursor,
)
from streamflow.alert_api.auth import ApiKey, KeyVerifier, RateLimiter, generate_key, hash_key
from streamflow.alert_api.config import Settings
from streamflow.alert_api.problems import ProblemError
from streamflow.platform.settings import Profile

AID = uuid.UUID("0b8c9a52-4f0e-5d1c-9a3b-7e2f1d6c4a10")


def test_cursor_round_trips_for_each_sort() -> None:
    when = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
    cases: list[tuple[SortOrder, datetime | float]] = [
        (SortOrder.NEWEST, when),
        (SortOrder.HIGHEST_SCORE, 0.75),
    ]
    for sort, value in cases:
        cursor = Cursor(sort, value, AID)
        assert Cursor.decode(cursor.encode(), sort) == cursor


@pytest.mark.parametrize(
    "token",
    [
        "not-base64!!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"s": "-score", "v": 7, "id": str(AID)}).encode())
        .decode()
        .rstrip("="),
        base64.urlsafe_b64encode(
            json.dumps({"s": "-score", "v": 0.5, "id": "x"}).encode()
        ).decode(),
    ],
)
def test_malformed_cursor_is_a_400_naming_cursor(token: str) -> None:
    with pytest.raises(ProblemError) as err:
        Cursor.decode(token, SortOrder.HIGHEST_SCORE)
    assert (err.value.status, err.value.field) == (400, "cursor")


def test_cursor_for_another_sort_is_refused() -> None:
    token = Cursor(SortOrder.HIGHEST_SCORE, 0.5, AID).encode()
    with pytest.raises(ProblemError, match="another sort"):
        Cursor.decode(token, SortOrder.NEWEST)


def test_naive_cursor_timestamp_is_refused() -> None:
    raw = json.dumps({"s": "-detected_at", "v": "2026-11-01T12:00:00", "id": str(AID)})
    with pytest.raises(ProblemError):
        Cursor.decode(base64.urlsafe_b64encode(raw.encode()).decode(), SortOrder.NEWEST)


def test_query_is_parameterised() -> None:
    evil = "C1'; drop table app.alerts; --"
    filters = AlertFilters(customer_id=evil, min_score=0.5, rule_id="FR-001", status="new")
    cursor = Cursor(SortOrder.LOWEST_SCORE, 0.6, AID)
    sql, args = build_list_query(filters, SortOrder.LOWEST_SCORE, cursor, 10)
    assert evil not in sql
    assert args == [evil, 0.6, AID]
    # The few low-cardinality values are written into the text, checked (ADR 0054).
    assert "score >= 0.5::float8" in sql
    assert "rule_ids @> array['FR-001']::text[]" in sql
    assert "status = 'new'" in sql
    assert "order by a.score asc, a.alert_id asc limit 11" in sql
    assert "(score, alert_id) > ($2, $3)" in sql


@pytest.mark.parametrize(
    "filters",
    [
        AlertFilters(status="new' or true --"),
        AlertFilters(status="open"),
        AlertFilters(severity="critical'"),
        AlertFilters(rule_id="FR-001'); drop table app.alerts; --"),
        AlertFilters(rule_id=""),
        AlertFilters(min_score=float("nan")),
        AlertFilters(min_score=1.5),
    ],
)
def test_inlined_values_are_checked(filters: AlertFilters) -> None:
    with pytest.raises(ValueError, match="not a"):
        build_list_query(filters, SortOrder.NEWEST, None, 10)


def test_page_size_is_checked() -> None:
    with pytest.raises(ValueError, match="page size"):
        build_list_query(AlertFilters(), SortOrder.NEWEST, None, 0)


def test_next_cursor_only_when_more_rows() -> None:
    rows = [{"alert_id": str(AID), "score": 0.9}, {"alert_id": str(AID), "score": 0.8}]
    assert next_cursor(rows, SortOrder.HIGHEST_SCORE, 2) is None
    token = next_cursor(rows, SortOrder.HIGHEST_SCORE, 1)
    assert token is not None
    assert Cursor.decode(token, SortOrder.HIGHEST_SCORE).value == 0.9


def test_keys_are_random_and_hash_depends_on_pepper() -> None:
    a, b = generate_key(), generate_key()
    assert a != b
    assert a.startswith("sfk_")
    assert hash_key(a, "p1") != hash_key(a, "p2")
    assert len(hash_key(a, "p1")) == 64


def _key(limit: int | None) -> ApiKey:
    return ApiKey("k1", "n", frozenset({"alerts:read"}), limit)


def test_stored_hash_is_hmac_sha256_hex() -> None:
    # The stored form must not change with the implementation (existing keys keep working).
    expected = hmac.new(b"pepper", b"sfk_abc", hashlib.sha256).hexdigest()
    assert hash_key("sfk_abc", "pepper") == expected


def test_rate_limiter_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(default_per_minute=2, clock=lambda: now[0])
    assert limiter.check(_key(None)) is None
    assert limiter.check(_key(None)) is None
    retry = limiter.check(_key(None))
    assert retry == pytest.approx(30.0)
    now[0] = 30.0
    assert limiter.check(_key(None)) is None
    for _ in range(1000):
        assert limiter.check(ApiKey("bench", "b", frozenset(), 0)) is None


async def test_verifier_caches_until_ttl() -> None:
    calls: list[str] = []
    now = [0.0]

    async def lookup(digest: str) -> ApiKey | None:
        calls.append(digest)
        return _key(None)

    verifier = KeyVerifier(lookup, "pepper", ttl_s=10, clock=lambda: now[0])
    key = generate_key()
    assert await verifier.verify(key) == _key(None)
    assert await verifier.verify(key) == _key(None)
    assert len(calls) == 1
    now[0] = 11
    await verifier.verify(key)
    assert len(calls) == 2
    assert await verifier.verify("not-a-key") is None
    assert len(calls) == 2


def test_settings_refuse_default_pepper_outside_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFLOW_PROFILE", "prod")
    monkeypatch.setenv("STREAMFLOW_PG_PASSWORD", "s3cret")
    with pytest.raises(ValueError, match="PEPPER"):
        Settings()
    monkeypatch.setenv("STREAMFLOW_API_API_KEY_PEPPER", "x" * 32)
    assert Settings().profile is Profile.PROD
    with pytest.raises(ValueError, match="page_size_default"):
        Settings(page_size_default=500, page_size_max=100)
