"""The recently active customers' scoring state, kept in memory in front of Flink's state.

Reading a customer's ``ValueState`` costs a JNI call into RocksDB, the TTL wrapper and a pickle;
the scoring function is the only writer of that state, so what it wrote last for a customer is
what it would read back. :class:`HotStates` keeps the bytes it wrote for the most recently active
customers (least recently used out first) and reads Flink's state only for the others.
Flink's state is still written on every event and stays the source of truth: checkpoints,
restores and rescaling see only it, and a (re)opened function starts with an empty cache
(docs/adr/0126).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from streamflow.scoring.state_config import CUSTOMER_STATE_TTL

_TTL_SECONDS = CUSTOMER_STATE_TTL.total_seconds()


class HotStates:
    """At most ``capacity`` customers' serialised states, each with the time it was written (s).

    :meth:`read` and :meth:`write` wrap the customer's Flink ``ValueState``: a read comes from
    memory when the customer is held, a write goes to both. A state older than ``ttl_seconds``
    (default: the customer state's TTL) is not used: Flink's state TTL, refreshed on every write,
    would have expired it, so Flink's state is read, which then holds none. ``capacity`` 0 keeps
    nothing. The states are kept as the bytes written to Flink, not as objects: ~200 bytes per
    customer instead of ~550, and nothing for Python's cyclic garbage collector to walk.
    ``held`` and ``reads`` count the reads served from memory and from Flink.
    """

    __slots__ = ("_capacity", "_states", "_ttl", "held", "reads")

    def __init__(self, capacity: int, ttl_seconds: float = _TTL_SECONDS) -> None:
        self._capacity = capacity
        self._ttl = ttl_seconds
        self._states: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self.held = 0
        self.reads = 0

    def __len__(self) -> int:
        return len(self._states)

    def read(self, key: str, now_s: float, flink_state: Any) -> bytes | None:
        """``key``'s state: the one last written when held, else ``flink_state.value()``.

        A held state leaves the cache until :meth:`write` puts the state after the event back.
        """
        held = self.take(key, now_s)
        if held is not None:
            self.held += 1
            return held
        self.reads += 1
        stored: bytes | None = flink_state.value()
        return stored

    def write(self, key: str, state: bytes, now_s: float, flink_state: Any) -> None:
        """``flink_state.update(state)``, and hold ``state`` as ``key``'s (written at ``now_s``)."""
        flink_state.update(state)
        self.put(key, state, now_s)

    def take(self, key: str, now_s: float) -> bytes | None:
        """The state last written for ``key``, removed from the cache; None when not held."""
        entry = self._states.pop(key, None)
        if entry is None or entry[1] + self._ttl <= now_s:
            return None
        return entry[0]

    def put(self, key: str, state: bytes, now_s: float) -> None:
        """Remember ``state`` as written for ``key`` at ``now_s``; the least recently written
        customer leaves when the cache is full."""
        if self._capacity <= 0:
            return
        states = self._states
        states[key] = (state, now_s)
        states.move_to_end(key)
        if len(states) > self._capacity:
            states.popitem(last=False)
