"""The scoring function's cache of recently active customers' states (pure logic)."""

from __future__ import annotations

from streamflow.fraud_scorer.hot_state import HotStates
from streamflow.scoring.core import CustomerState
from streamflow.scoring.state_config import CUSTOMER_STATE_TTL

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


class FlinkState:
    """A stand-in for Flink's ``ValueState`` that counts reads."""

    def __init__(self, data: bytes | None = None) -> None:
        self.data = data
        self.reads = 0

    def value(self) -> bytes | None:
        self.reads += 1
        return self.data

    def update(self, data: bytes) -> None:
        self.data = data


def test_read_falls_back_to_flink_state_and_write_updates_both() -> None:
    hot, flink = HotStates(2, TTL), FlinkState(state(1))
    assert hot.read("C1", 0.0, flink) == state(1)  # not held: Flink's state
    hot.write("C1", state(2), 0.0, flink)
    assert flink.data == state(2)
    assert hot.read("C1", 1.0, flink) == state(2)  # held: Flink's state not read
    assert (flink.reads, hot.reads, hot.held) == (1, 1, 1)
    hot.write("C1", state(3), 1.0, flink)
    assert hot.read("C1", 1.0 + TTL, flink) == state(3)  # past the TTL: read from Flink again
    assert (flink.reads, hot.reads, hot.held) == (2, 2, 1)


def test_the_default_ttl_is_the_customer_states() -> None:
    hot = HotStates(1)
    hot.put("C1", state(1), 0.0)
    ttl = CUSTOMER_STATE_TTL.total_seconds()
    assert hot.take("C1", ttl - 1.0) == state(1)
    hot.put("C1", state(1), 0.0)
    assert hot.take("C1", ttl) is None
