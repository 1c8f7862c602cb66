"""The scoring function's cache of recently active customers' states (pure logic)."""

from __future__ import annotations

from streamflow.fraud_scorer.hot_state import HotStates
from streamflow.scoring.core import CustomerState

TTL = 100.0


def state(count: int) -> bytes:
    return CustomerState(count=count).to_bytes()


def test_a_state_is_returned_once_as_it_was_put() -> None:
    hot = HotStates(2, TTL)
    assert hot.take("C1", 0.0) is None
    written = state(1)
    hot.put("C1", written, 0.0)
    assert hot.take("C1", 1.0) is written
    assert hot.take("C1", 1.0) is None  # taken: the caller puts the state after the event back
    assert len(hot) == 0


def test_the_least_recently_written_customer_leaves_first() -> None:
    hot = HotStates(2, TTL)
    hot.put("C1", state(1), 0.0)
    hot.put("C2", state(2), 1.0)
    hot.put("C1", state(3), 2.0)  # C1 written again: C2 is now the oldest
    hot.put("C3", state(4), 3.0)
    assert len(hot) == 2
    assert hot.take("C2", 4.0) is None
    assert [hot.take(key, 4.0) for key in ("C1", "C3")] == [state(3), state(4)]


def test_a_state_older_than_the_ttl_is_not_returned() -> None:
    hot = HotStates(2, TTL)
    hot.put("C1", state(1), 0.0)
    assert hot.take("C1", TTL - 0.001) is not None
    hot.put("C1", state(1), 10.0)
    # Flink's TTL expires the state at write time + TTL: the caller reads Flink's state instead
    assert hot.take("C1", 10.0 + TTL) is None
    assert len(hot) == 0


def test_capacity_zero_keeps_nothing() -> None:
    hot = HotStates(0, TTL)
    hot.put("C1", state(1), 0.0)
    assert len(hot) == 0
    assert hot.take("C1", 0.0) is None
