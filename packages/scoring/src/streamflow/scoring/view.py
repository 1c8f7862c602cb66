"""A flat, fast view of a transaction: the only shape the scoring arithmetic reads.

The Flink job builds it from a decoded :class:`~streamflow.events.Transaction` with
:func:`make_view`; the backtest builds it straight from file columns with the same conversions
(floats, CRC-32 of the device id, NaN for an unknown location), and the parity tests hold the two
to identical scores.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

from streamflow.events import Transaction


@dataclass(slots=True, init=False)
class TxnView:
    """The fields of a transaction the rules and features use, as plain Python values.

    A class with its own ``__init__`` (compiled: a native constructor, one per event; a named
    tuple's ``__new__`` runs as Python, docs/adr/0127). Read-only by convention.
    """

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
    device: int
    """Stable 32-bit hash (CRC-32) of the device id, -1 when there is none."""

    def __init__(  # noqa: PLR0917 - the view's fields
        self,
        transaction_id: str,
        epoch: float,
        customer_id: str,
        card_id: str,
        merchant_id: str,
        amount: float,
        currency: str,
        channel: str,
        lat: float,
        lon: float,
        device: int = -1,
    ) -> None:
        self.transaction_id = transaction_id
        self.epoch = epoch
        self.customer_id = customer_id
        self.card_id = card_id
        self.merchant_id = merchant_id
        self.amount = amount
        self.currency = currency
        self.channel = channel
        self.lat = lat
        self.lon = lon
        self.device = device

    def __reduce__(self) -> tuple[type[TxnView], tuple[Any, ...]]:
        """Pickled as its constructor call (compiled, the default calls ``__init__()`` bare)."""
        return TxnView, (
            self.transaction_id,
            self.epoch,
            self.customer_id,
            self.card_id,
            self.merchant_id,
            self.amount,
            self.currency,
            self.channel,
            self.lat,
            self.lon,
            self.device,
        )

    @property
    def merchant(self) -> int:
        """Stable 32-bit hash (CRC-32) of the merchant id."""
        return zlib.crc32(self.merchant_id.encode("utf-8"))

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
    lat, lon, device = txn.latitude, txn.longitude, txn.device_id
    return TxnView(
        txn.transaction_id,
        txn.event_time.timestamp(),
        txn.customer_id,
        txn.card_id,
        txn.merchant_id,
        float(txn.amount),
        txn.currency,
        str(txn.channel),
        math.nan if lat is None else float(lat),
        math.nan if lon is None else float(lon),
        -1 if not device else zlib.crc32(device.encode("utf-8")),
    )


def device_hash(device_id: str | None) -> int:
    """CRC-32 of a device id (stable across processes, unlike ``hash``); -1 for none."""
    return -1 if not device_id else zlib.crc32(device_id.encode("utf-8"))
