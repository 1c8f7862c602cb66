"""A columnar batch of transactions (numpy arrays), the unit the simulator hands to the sinks."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from streamflow.events.transactions import Channel, PaymentMethod

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CHANNELS: tuple[Channel, ...] = (Channel.POS, Channel.ONLINE, Channel.MOBILE)
POS, ONLINE, MOBILE = 0, 1, 2
PAYMENT_METHODS: tuple[PaymentMethod, ...] = tuple(PaymentMethod)
CREDIT, DEBIT, PIX, BOLETO, WALLET = (PAYMENT_METHODS.index(m) for m in PaymentMethod)
NO_DEVICE = -1
FRAUD_DEVICE_BASE = 1 << 40
"""Device codes: -1 none, ``cust * 4 + n`` a customer's own device, >= this a fraudster's."""


@dataclass(slots=True)
class Batch:
    """Parallel arrays, one element per transaction."""

    t: IntArray
    """Event time, ms since the Unix epoch (UTC)."""
    cust: IntArray
    card: IntArray
    store: IntArray
    product: IntArray
    cents: IntArray
    pm: IntArray
    chan: IntArray
    lat: FloatArray
    lon: FloatArray
    dev: IntArray
    label: IntArray
    scen: IntArray
    seq: IntArray
    """Global sequence number in event-time order (the transaction id's number)."""

    def __len__(self) -> int:
        return len(self.t)

    def take(self, index: npt.NDArray[Any] | slice) -> Batch:
        return Batch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def concat(cls, parts: list[Batch]) -> Batch:
        if not parts:
            return cls.empty()
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    @classmethod
    def empty(cls) -> Batch:
        kw: dict[str, Any] = {f.name: np.zeros(0, dtype=np.int64) for f in fields(cls)}
        kw["lat"] = np.zeros(0)
        kw["lon"] = np.zeros(0)
        return cls(**kw)


class Rows:
    """Row-wise accumulator for the (few) scenario events, turned into a :class:`Batch`."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {
            f.name: [] for f in fields(Batch) if f.name not in ("product", "seq")
        }

    def __len__(self) -> int:
        return len(self.cols["t"])

    def add(
        self,
        *,
        t: int,
        cust: int,
        card: int,
        store: int,
        cents: int,
        pm: int,
        chan: int,
        lat: float,
        lon: float,
        dev: int,
        label: int,
        scen: int,
    ) -> None:
        for name, value in (
            ("t", t), ("cust", cust), ("card", card), ("store", store), ("cents", cents),
            ("pm", pm), ("chan", chan), ("lat", lat), ("lon", lon), ("dev", dev),
            ("label", label), ("scen", scen),
        ):  # fmt: skip
            self.cols[name].append(value)

    def to_batch(self, product: IntArray) -> Batch:
        kw: dict[str, Any] = {
            name: np.asarray(values, dtype=np.float64 if name in ("lat", "lon") else np.int64)
            for name, values in self.cols.items()
        }
        return Batch(product=product, seq=np.zeros(len(self), dtype=np.int64), **kw)
