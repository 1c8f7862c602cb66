"""The lab's delayed labels: due in order, frauds reach the context, every row counts as traffic."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from lab_testdata import T0

from streamflow.events import Channel, PaymentMethod, Transaction
from streamflow.lab.label_feed import LabelFeed
from streamflow.scoring.context import ContextStore
from streamflow.scoring.view import make_view

DAY = 86_400.0


class Recorder:
    def __init__(self) -> None:
        self.learned: list[tuple[str, bool, float]] = []

    def learn(self, merchant: str, fraud: bool, when: float) -> None:
        self.learned.append((merchant, fraud, when))


def _view(tid: str, days: float, merchant: str = "M1", card: str = "K1") -> object:
    return make_view(
        Transaction(
            transaction_id=tid,
            event_time=T0 + timedelta(days=days),
            customer_id="C1",
            card_id=card,
            merchant_id=merchant,
            store_id="S1",
            amount=Decimal("10.00"),
            payment_method=PaymentMethod.CREDIT_CARD,
            channel=Channel.POS,
        )
    )


def test_labels_arrive_after_the_delay_in_due_order() -> None:
    ctx, run = ContextStore(), Recorder()
    feed = LabelFeed(7 * DAY, [run], ctx)
    first, second = _view("t1", 0.5), _view("t2", 0.0, merchant="M2", card="K2")
    feed.observe(first, 1)  # type: ignore[arg-type]
    feed.observe(second, 0)  # type: ignore[arg-type]
    start = T0.timestamp()
    feed.deliver(start + 7 * DAY - 1)
    assert run.learned == []
    feed.deliver(start + 8 * DAY)
    assert run.learned == [("M2", False, start + 7 * DAY), ("M1", True, start + 7.5 * DAY)]
    known = ctx.labels_at("M1", "K1", start + 8 * DAY)
    assert known.merchant_frauds == (1, 1, 1)
    assert known.card_frauds == 1
    assert ctx.labels_at("M2", "K2", start + 8 * DAY).merchant_frauds == (0, 0, 0)
    # both payments were counted for the days after theirs
    assert ctx.labels_at("M1", "K1", start + 3 * DAY).merchant_payments == (0, 1, 1)
    assert ctx.labels_at("M2", "K2", start + 1 * DAY).merchant_payments == (1, 1, 1)
