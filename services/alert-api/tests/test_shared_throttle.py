"""Failed authentication is throttled per address across every worker and pod (limits.py, ADR
0090): two app instances on one real PostgreSQL share an address's bucket, and good keys never
touch it. The pure logic (adopting the shared count) is checked with a fake store first."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import Keys
from streamflow.alert_api.app import create_app
from streamflow.alert_api.config import Settings
from streamflow.alert_api.fast_path import AlertApi
from streamflow.alert_api.limits import PRUNE_SQL, SharedAddressThrottle


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_the_local_bucket_takes_the_lower_shared_count() -> None:
    shared = {"a": 5.0}
    sent: list[tuple[list[str], list[int]]] = []

    async def spend(addresses: Sequence[str], failures: Sequence[int]) -> list[tuple[str, float]]:
        sent.append((list(addresses), list(failures)))
        await asyncio.sleep(0)
        for address, n in zip(addresses, failures, strict=True):
            shared[address] = max(0.0, shared.get(address, 5.0) - n)
        return [(a, shared[a]) for a in addresses]

    async def scenario() -> None:
        now = [0.0]
        throttle = SharedAddressThrottle(5, 6, spend, clock=lambda: now[0])
        shared["a"] = 1.0  # four failures elsewhere
        throttle.spend("a")
        await asyncio.sleep(0)  # the first upsert is now in flight...
        throttle.spend("a")  # ...so these two queue, and go in the next one, together
        throttle.spend("b")
        await throttle.settled()
        assert sent == [(["a"], [1]), (["a", "b"], [1, 1])]
        assert throttle.retry_after("a") == pytest.approx(10.0)  # shared: empty
        assert throttle.retry_after("b") is None  # shared: 4 left, local: 4 left

    asyncio.run(scenario())
    # Without an event loop nothing is shared, and the local bucket works as before.
    alone = SharedAddressThrottle(1, 6, spend)
    sent.clear()
    alone.spend("c")
    assert alone.retry_after("c") is not None
    assert sent == []


def test_a_flood_from_many_addresses_goes_in_bounded_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streamflow.alert_api import limits

    monkeypatch.setattr(limits, "MAX_BATCH", 2)
    sizes: list[int] = []

    async def spend(addresses: Sequence[str], failures: Sequence[int]) -> list[tuple[str, float]]:
        sizes.append(len(addresses))
        return [(a, 5.0) for a in addresses]

    async def scenario() -> None:
        throttle = SharedAddressThrottle(5, 6, spend)
        for i in range(5):
            throttle.spend(f"a{i}")
        await throttle.settled()

    asyncio.run(scenario())
    assert sizes == [2, 2, 1]


def test_refilled_rows_are_pruned_and_failures_meanwhile_still_sent() -> None:
    sent: list[list[str]] = []
    pruned: list[float] = []

    async def spend(addresses: Sequence[str], failures: Sequence[int]) -> list[tuple[str, float]]:
        sent.append(list(addresses))
        return [(a, 4.0) for a in addresses]

    async def scenario() -> None:
        now = [0.0]
        throttle: SharedAddressThrottle

        async def prune(older_than_s: float) -> None:
            pruned.append(older_than_s)
            throttle.spend("late")  # a failure while the prune runs
            await asyncio.sleep(0)

        throttle = SharedAddressThrottle(5, 6, spend, prune, clock=lambda: now[0])
        throttle.spend("a")
        await throttle.settled()
        assert pruned == []  # not yet a minute since the last prune
        now[0] = 61.0
        throttle.spend("b")
        await throttle.settled()

    asyncio.run(scenario())
    assert pruned == [50.0]  # a bucket of 5 refills in 50 s at 6 a minute
    assert sent == [["a"], ["b"], ["late"]]


@pytest.mark.integration
def test_two_app_instances_share_an_addresss_failed_auth_limit(
    api_settings: Settings, keys: Keys
) -> None:
    settings = api_settings.model_copy(
        update={"unauth_burst": 6, "unauth_per_minute": 1, "key_cache_ttl_s": 60}
    )
    attacker = ("203.0.113.9", 40000)
    one_app, two_app, three_app = (create_app(settings) for _ in range(3))
    lookups: list[str] = []
    for app in (one_app, two_app, three_app):
        real = app.state.verifier._lookup

        async def counting(digest: str, real: Any = real) -> Any:
            lookups.append(digest)
            return await real(digest)

        app.state.verifier._lookup = counting

    def settled(client: TestClient, app: FastAPI) -> None:
        """Wait until the failures this instance spent are counted in PostgreSQL."""
        assert isinstance(app, AlertApi)
        assert app.guard is not None
        assert isinstance(app.guard.throttle, SharedAddressThrottle)
        assert client.portal is not None
        client.portal.call(app.guard.throttle.settled)

    with (
        TestClient(one_app, raise_server_exceptions=False, client=attacker) as one,
        TestClient(two_app, raise_server_exceptions=False, client=attacker) as two,
        TestClient(three_app, raise_server_exceptions=False, client=attacker) as three,
    ):
        # A good client behind that address has its key verified by instance one first.
        assert one.get("/v1/alerts", headers=_h(keys.read)).status_code == 200
        with psycopg.connect(settings.pg.dsn()) as conn:
            assert conn.execute("select count(*) from app.api_auth_failures").fetchone() == (0,)
        # A flood alternating between the two instances. Per process, each bucket (6) would
        # last 6 failures: 12 in all. Shared, the 6th empties the one bucket; the instance that
        # made it refuses at once, the other after its own next failure shows it the count.
        codes = []
        lookups.clear()
        for i in range(9):
            client, app = (one, one_app) if i % 2 == 0 else (two, two_app)
            codes.append(client.get("/v1/stats", headers=_h(f"sfk_bad{i}")).status_code)
            settled(client, app)
        assert codes == [401] * 7 + [429] * 2
        assert len(lookups) == 7  # the refused ones never reached the key lookup
        with psycopg.connect(settings.pg.dsn()) as conn:
            left = conn.execute("select address, tokens from app.api_auth_failures").fetchall()
        assert len(left) == 1
        assert left[0][0] == attacker[0]
        assert left[0][1] < 1.0  # empty (it refills one token a minute)
        # Both instances refuse that address before any lookup, with the shared wait.
        for client in (one, two):
            refused = client.get("/v1/alerts", headers=_h("sfk_guess"))
            assert refused.status_code == 429, refused.text
            assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert len(lookups) == 7
        # A third instance that never saw the address learns it from its own first failure.
        assert three.get("/v1/alerts", headers=_h("sfk_probe")).status_code == 401
        settled(three, three_app)
        assert three.get("/v1/alerts", headers=_h("sfk_guess")).status_code == 429
        # The key instance one verified still works there; another address is not affected.
        assert one.get("/v1/alerts", headers=_h(keys.read)).status_code == 200
        # The prune (real SQL): a row refilled longer ago than asked is deleted, a newer one kept.
        assert one.portal is not None
        one.portal.call(one_app.state.db.fetch, PRUNE_SQL, 3600.0)
        with psycopg.connect(settings.pg.dsn()) as conn:
            assert conn.execute("select count(*) from app.api_auth_failures").fetchone() == (1,)
        one.portal.call(one_app.state.db.fetch, PRUNE_SQL, 0.0)
        with psycopg.connect(settings.pg.dsn()) as conn:
            assert conn.execute("select count(*) from app.api_auth_failures").fetchone() == (0,)
    with TestClient(two_app, raise_server_exceptions=False) as other:
        assert other.get("/v1/alerts", headers=_h("sfk_bad")).status_code == 401


@pytest.mark.integration
def test_good_keys_never_touch_the_shared_table(api_settings: Settings, keys: Keys) -> None:
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as client:
        for path in ("/v1/alerts", "/v1/stats", "/v1/queues"):
            assert client.get(path, headers=_h(keys.read)).status_code == 200
    with psycopg.connect(api_settings.pg.dsn()) as conn:
        assert conn.execute("select count(*) from app.api_auth_failures").fetchone() == (0,)
