"""Delayed ground truth: a chargeback (``fraud.feedback``) per fraud, due after the delay.

Chargebacks are released when the stream's event time passes their ``reported_at``, so the
scorer only learns a label the configured delay (default 7 days + up to 48 h) after the fraud.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime

import numpy as np

from streamflow.events import Feedback, FeedbackSource, Label, encode, encode_key
from streamflow.generator.batch import Batch
from streamflow.generator.encoding import IdTables

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class FeedbackQueue:
    """Fraud transactions waiting for their chargeback, ordered by ``reported_at``."""

    def __init__(self, ids: IdTables, seed: int, delay_days: float, jitter_hours: float) -> None:
        self.ids = ids
        self.rng = np.random.default_rng([seed, 4])
        self.delay_ms = int(delay_days * DAY_MS)
        self.jitter_ms = jitter_hours * HOUR_MS
        self._heap: list[tuple[int, int, int, int, int]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, batch: Batch) -> None:
        fraud = np.flatnonzero(batch.label == 1)
        jitter = self.rng.uniform(0, self.jitter_ms, len(fraud)) if self.jitter_ms else None
        for n, i in enumerate(fraud.tolist()):
            extra = int(jitter[n]) if jitter is not None else 0
            reported = int(batch.t[i]) + self.delay_ms + extra
            entry = (
                reported,
                int(batch.seq[i]),
                int(batch.cust[i]),
                int(batch.store[i]),
                int(batch.card[i]),
            )
            heapq.heappush(self._heap, entry)

    def pop_due(self, until_ms: int | None) -> tuple[list[bytes], list[bytes]]:
        """Encoded (values, keys) of chargebacks due by ``until_ms`` (None: all of them)."""
        values: list[bytes] = []
        keys: list[bytes] = []
        while self._heap and (until_ms is None or self._heap[0][0] <= until_ms):
            reported, seq, cust, store, card = heapq.heappop(self._heap)
            event = Feedback(
                transaction_id=self.ids.transaction_id(seq),
                customer_id=self.ids.customers[cust].as_py(),
                merchant_id=self.ids.store_merchants[store].as_py(),
                label=Label.FRAUD,
                source=FeedbackSource.CHARGEBACK,
                reported_at=datetime.fromtimestamp(reported / 1000, tz=UTC),
                card_id=self.ids.cards[card].as_py(),
            )
            values.append(encode(event))
            keys.append(encode_key(event.key()))
        return values, keys
