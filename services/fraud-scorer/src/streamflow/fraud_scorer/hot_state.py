"""The recently active customers' scoring state, kept in memory in front of Flink's state.

Reading a customer's ``ValueState`` costs a JNI call into RocksDB, the TTL wrapper and a pickle;
the scoring function is the only writer of that state, so what it wrote last for a customer is
what it would read back. :class:`HotStates` keeps the bytes it wrote for the most recently active
customers (least recently used out first) and the job reads Flink's state only for the others.
Flink's state is still written on every event and stays the source of truth: checkpoints,
restores and rescaling see only it, and a (re)opened function starts with an empty cache
(docs/adr/0126).
"""

from __future__ import annotations

from collections import OrderedDict


class HotStates:
    """At most ``capacity`` customers' serialised states, each with the time it was written (s).

    A state older than ``ttl_seconds`` is not returned: Flink's state TTL (refreshed on every
    write) would have expired it, so the caller reads Flink's state, which then holds none.
    ``capacity`` 0 keeps nothing. The states are kept as the bytes written to Flink, not as
    objects: ~200 bytes per customer instead of ~550, and nothing for Python's cyclic garbage
    collector to walk.
    """

    __slots__ = ("_capacity", "_states", "_ttl")

    def __init__(self, capacity: int, ttl_seconds: float) -> None:
        self._capacity = capacity
        self._ttl = ttl_seconds
        self._states: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def take(self, key: str, now_s: float) -> bytes | None:
        """The state last written for ``key``, removed from the cache; None when not held (read
        Flink's state then). The caller puts the state after the event back with :meth:`put`."""
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
