"""Chargebacks carry the outbox's label-fact key: one per (transaction, source)."""

from __future__ import annotations

import json
from typing import Any

from streamflow.events import Feedback, decode, encode_key
from streamflow.generator.encoding import IdTables
from streamflow.generator.feedback import FeedbackQueue


def test_chargebacks_are_keyed_per_transaction_and_source(simulated: Any) -> None:
    ids = IdTables.build(simulated.ref, simulated.seed)
    queue = FeedbackQueue(ids, simulated.seed, delay_days=1, jitter_hours=0)
    queue.add(simulated.batch)
    values, keys = queue.pop_due(None)
    assert values
    for value, key in zip(values, keys, strict=True):
        chargeback = decode(Feedback, value)
        # the same derivation as the outbox (Feedback.key()), so a re-sent chargeback replaces
        assert key == encode_key(chargeback.key())
        assert json.loads(key) == {
            "customer_id": chargeback.customer_id,
            "transaction_id": chargeback.transaction_id,
            "source": "chargeback",
        }
