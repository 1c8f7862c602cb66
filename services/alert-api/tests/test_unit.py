"""Pure logic: cursors, query building, keys, rate limits, the key cache, settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow.alert_api.alert_query import (
    CURSOR_MAX_LENGTH,
    CURSOR_PATTERN,
    AlertFilters,
    Cursor,
    SortOrder,
    build_list_query,
    next_cursor,
)
from streamflow.alert_api.auth import (
    ApiKey,
    KeyVerifier,
    RateLimiter,
    generate_key,
    hash_key,
    lease_size,
)
from streamflow.alert_api.config import Settings
from streamflow.alert_api.problems import ProblemError
from streamflow.platform.settings import Profile

AID = uuid.UUID("0b8c9a52-4f0e-5d1c-9a3b-7e2f1d6c4a10")


def test_cursor_round_trips_for_each_sort() -> None:
    when = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
    cases: list[tuple[SortOrder, datetime | float]] = [
        (SortOrder.NEWEST, when),
        (SortOrder.OLDEST, when),
        (SortOrder.HIGHEST_SCORE, 0.75),
        (SortOrder.LOWEST_SCORE, 1e-05),
        (SortOrder.LOWEST_SCORE, 0.0),
        (SortOrder.HIGHEST_SCORE, 1.0),
    ]
    for sort, value in cases:
        cursor = Cursor(sort, value, AID)
        token = cursor.encode()
        assert re.fullmatch(CURSOR_PATTERN, token), token
        assert len(token) <= CURSOR_MAX_LENGTH
        assert Cursor.decode(token) == cursor


def test_a_tiny_score_rounds_towards_the_rows_already_sent() -> None:
    tiny = 1.2345678901234567e-20
    down = Cursor.decode(Cursor(SortOrder.HIGHEST_SCORE, tiny, AID).encode()).value
    up = Cursor.decode(Cursor(SortOrder.LOWEST_SCORE, tiny, AID).encode()).value
    assert isinstance(down, float)
    assert isinstance(up, float)
    assert up <= tiny <= down


@pytest.mark.parametrize(
    "token",
    [
        "not-a-cursor!!",
        "n1.5_" + str(AID),  # a fraction of a microsecond
        "x0.5_" + str(AID),
        "h0.5_not-a-uuid",
        "h0.5_" + str(AID) + "\n",
        "n" + "9" * 17 + "_" + str(AID),  # after year 2286
    ],
)
def test_malformed_cursor_is_a_400_naming_cursor(token: str) -> None:
    with pytest.raises(ProblemError) as err:
        Cursor.decode(token)
    assert (err.value.status, err.value.field) == (400, "cursor")


@settings(max_examples=200, deadline=None)
@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_cursor_of_the_pattern_is_accepted(token: str) -> None:
    cursor = Cursor.decode(token)  # the schema's pattern: never a 400
    assert cursor.sort.column in {"detected_at", "score"}


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
    assert token == f"h0.9_{AID}"
    assert Cursor.decode(token).value == 0.9


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


class SharedWindow:
    """The PostgreSQL counter of V034, in memory (the database test: test_bounded_api.py)."""

    def __init__(self, now: list[float]) -> None:
        self.now = now
        self.hits = 0
        self.calls: list[tuple[str, int]] = []

    async def hit(self, key_id: str, requests: int) -> tuple[int, float]:
        self.calls.append((key_id, requests))
        self.hits += requests
        return self.hits, 60.0 - self.now[0] % 60.0


async def test_rate_limiter_counts_in_the_shared_window_and_skips_exempt_keys() -> None:
    now = [0.0]
    window = SharedWindow(now)
    limiter = RateLimiter(window.hit, default_per_minute=2, clock=lambda: now[0])
    assert await limiter.check(_key(None)) is None
    assert await limiter.check(_key(None)) is None
    assert await limiter.check(_key(None)) == pytest.approx(60.0)
    assert window.calls == [("k1", 1)] * 3  # small budgets: counted request by request
    # Refused locally until the window ends: no more round trips for a flooding key.
    now[0] = 20.0
    assert await limiter.check(_key(None)) == pytest.approx(40.0)
    assert len(window.calls) == 3
    now[0] = 61.0
    window.hits = 0  # the next window
    assert await limiter.check(_key(None)) is None
    for _ in range(1000):  # exempt: never counted
        assert await limiter.check(ApiKey("bench", "b", frozenset(), 0)) is None
    assert len(window.calls) == 4


async def test_rate_limiter_leases_a_share_of_large_budgets_and_never_exceeds_them() -> None:
    now = [0.0]
    window = SharedWindow(now)
    worker_one = RateLimiter(window.hit, default_per_minute=600, clock=lambda: now[0])
    worker_two = RateLimiter(window.hit, default_per_minute=600, clock=lambda: now[0])
    assert lease_size(600) == 6
    assert (lease_size(100_000), lease_size(150)) == (50, 1)
    admitted = 0
    for _ in range(400):
        for worker in (worker_one, worker_two):
            admitted += await worker.check(_key(None)) is None
    assert admitted == 600  # the two workers together: exactly the budget
    assert len(window.calls) <= 600 // 6 + 2  # one round trip per lease (plus the refusals)
    assert all(requests == 6 for _, requests in window.calls)


def test_throttle_per_address_spends_on_failures_and_refills() -> None:
    from streamflow.alert_api.guard import AddressThrottle

    now = [0.0]
    throttle = AddressThrottle(burst=2, per_minute=6, clock=lambda: now[0], max_addresses=3)
    assert throttle.retry_after("a") is None
    throttle.spend("a")
    assert throttle.retry_after("a") is None
    throttle.spend("a")
    assert throttle.retry_after("a") == pytest.approx(10.0)  # one token per 10 s
    assert throttle.retry_after("b") is None  # other addresses are not affected
    now[0] = 10.0
    assert throttle.retry_after("a") is None
    # A full table forgets the addresses whose buckets have refilled, keeps the throttled ones.
    throttle.spend("a")
    throttle.spend("a")
    for address in ("b", "c"):
        throttle.spend(address)
    now[0] = 20.0
    throttle.spend("d")
    assert set(throttle._buckets) == {"a", "d"}  # b and c were full again: forgotten


def test_console_csp_allows_exactly_its_inline_script_and_style() -> None:
    from streamflow.alert_api.routes.console import content_security_policy, page

    csp = content_security_policy()
    html = page()
    for tag in ("script", "style"):
        body = html.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in csp
    assert "unsafe" not in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self'" in csp


def test_docs_follow_the_profile_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().docs_enabled
    monkeypatch.setenv("STREAMFLOW_PROFILE", "prod")
    monkeypatch.setenv("STREAMFLOW_PG_PASSWORD", "s3cret")
    monkeypatch.setenv("STREAMFLOW_API_API_KEY_PEPPER", "a-real-secret")
    assert not Settings().docs_enabled
    monkeypatch.setenv("STREAMFLOW_API_DOCS", "true")
    assert Settings().docs_enabled


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
