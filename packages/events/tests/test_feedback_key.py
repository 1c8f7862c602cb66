"""``fraud.feedback`` keys: one deterministic key per (transaction, source)."""

from __future__ import annotations

from datetime import timedelta

from streamflow.events import (
    Feedback,
    FeedbackKey,
    FeedbackSource,
    Label,
    decode_key,
    encode_key,
    examples,
)


def test_key_is_deterministic_per_transaction_and_source() -> None:
    chargeback = examples.feedback("tx-1")
    # Another report of the same fact (later, other label, a note): same key bytes.
    again = chargeback.model_copy(
        update={
            "label": Label.LEGIT,
            "reported_at": chargeback.reported_at + timedelta(days=1),
            "note": "reversed",
        }
    )
    assert encode_key(again.key()) == encode_key(chargeback.key())
    assert encode_key(chargeback.key()) == (
        b'{"customer_id":"C0001","transaction_id":"tx-1","source":"chargeback"}'
    )
    analyst = chargeback.model_copy(update={"source": FeedbackSource.ANALYST})
    other_tx = examples.feedback("tx-2")
    assert len({encode_key(f.key()) for f in (chargeback, analyst, other_tx)}) == 3


def test_keys_written_before_still_decode() -> None:
    old = decode_key(FeedbackKey, b'{"customer_id":"C0001"}')
    assert (old.customer_id, old.transaction_id, old.source) == ("C0001", None, None)
    new = decode_key(FeedbackKey, encode_key(examples.feedback("tx-9").key()))
    assert (new.transaction_id, new.source) == ("tx-9", FeedbackSource.CHARGEBACK)
    assert isinstance(examples.feedback(), Feedback)
