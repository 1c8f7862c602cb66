"""A flat, fast view of a transaction: the only shape the scoring arithmetic reads.

The Flink job builds it from a decoded :class:`~streamflow.events.Transaction`; the backtest builds
it straight from file columns. Both go through :func:`make_view`, so the numbers are identical.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from streamflow.events import Transaction


class TxnView(NamedTuple):
    """The fields of a transaction the rules and features use, as plain Python values."""

    transaction_id: str
    epoch: float
    """Event time as POSIX seconds (UTC)."""
    customer_id: str
    card_id: str
    merchant_id: str
    amount: float
    currency: str
    channel: str
    lat: float
    """Latitude, or NaN when unknown."""
    lon: float
    """Longitude, or NaN when unknown."""

    @property
    def hour(self) -> float:
        """Hour of day in UTC as a fraction in [0, 24)."""
        return (self.epoch % 86_400.0) / 3_600.0

    @property
    def has_location(self) -> bool:
        """Whether latitude and longitude are both known."""
        return not (math.isnan(self.lat) or math.isnan(self.lon))


def make_view(txn: Transaction) -> TxnView:
    """The view of a decoded transaction."""
    return TxnView(
        transaction_id=txn.transaction_id,
        epoch=txn.event_time.timestamp(),
        customer_id=txn.customer_id,
        card_id=txn.card_id,
        merchant_id=txn.merchant_id,
        amount=float(txn.amount),
        currency=txn.currency,
        channel=str(txn.channel),
        lat=math.nan if txn.latitude is None else float(txn.latitude),
        lon=math.nan if txn.longitude is None else float(txn.longitude),
    )
