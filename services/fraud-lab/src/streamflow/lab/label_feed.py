"""Labels arriving late, as chargebacks do: what the lab's replays know at each event time.

Every scored row's label becomes known ``delay_s`` after its event time; due labels are handed to
the rule sets' merchant risk and, for frauds, to the :class:`ContextStore` (the merchant's and the
card's confirmed frauds) before any later row is scored. Each scored row also counts as a payment
at its merchant (the traffic the job counts in the JVM). The backtest and the learning loop share
this one feed, so both see labels exactly as the job does.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Protocol

from streamflow.scoring.context import ContextStore
from streamflow.scoring.view import TxnView


class LearnsLabels(Protocol):
    """A scorer fed merchant labels (the rule sets' merchant-risk part)."""

    def learn(self, merchant: str, fraud: bool, when: float) -> None:
        """A label for a payment at ``merchant`` became known at ``when``."""


class LabelFeed:
    """Delayed labels delivered in due order to ``runs`` and ``ctx``."""

    def __init__(self, delay_s: float, runs: Sequence[LearnsLabels], ctx: ContextStore) -> None:
        self.delay_s = delay_s
        self.runs = runs
        self.ctx = ctx
        self._pending: list[tuple[float, int, str, str, int]] = []
        self._seq = 0

    def deliver(self, now: float) -> None:
        """Hand over every label due at or before ``now``."""
        pending, ctx = self._pending, self.ctx
        while pending and pending[0][0] <= now:
            due, _, merchant, card, fraud = heapq.heappop(pending)
            for run in self.runs:
                run.learn(merchant, fraud == 1, due)
            if fraud:
                ctx.report_fraud(merchant, card, due)

    def observe(self, view: TxnView, label: int) -> None:
        """A row was scored: count its payment and queue its label."""
        self.ctx.record_payment(view.merchant_id, view.epoch)
        item = (view.epoch + self.delay_s, self._seq, view.merchant_id, view.card_id, label)
        heapq.heappush(self._pending, item)
        self._seq += 1
