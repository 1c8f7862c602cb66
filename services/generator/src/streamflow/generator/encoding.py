"""Fast JSON encoding of transaction batches, identical to the contract's strict JSON shape.

pydantic would cost ~20 µs per event; here the bytes are assembled from pre-formatted id tables
and vectorised timestamps (~2-3 µs per event). Tests validate samples with
``streamflow.events.decode(Transaction, ...)`` so the fast path cannot drift from the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamflow.generator.batch import CHANNELS, FRAUD_DEVICE_BASE, PAYMENT_METHODS, Batch
from streamflow.generator.reference import (
    CATEGORIES,
    PRODUCTS_PER_CATEGORY,
    Reference,
    card_id,
    customer_id,
    merchant_id,
    product_id,
    store_id,
)

MALFORMED_KINDS = ("bad_json", "missing_field", "wrong_type", "negative_amount")


ObjArray = npt.NDArray[np.object_]


def _obj(values: list[str] | list[bytes]) -> ObjArray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


@dataclass(frozen=True, slots=True)
class IdTables:
    """Pre-formatted id strings of one reference data set (object arrays, fancy-indexable)."""

    prefix: str
    customers: ObjArray
    keys: ObjArray
    cards: ObjArray
    stores: ObjArray
    store_merchants: ObjArray
    products: ObjArray
    methods: ObjArray
    channels: ObjArray

    @classmethod
    def build(cls, ref: Reference, seed: int) -> IdTables:
        customers = [customer_id(i) for i in range(ref.n_customers)]
        n_products = len(CATEGORIES) * PRODUCTS_PER_CATEGORY
        return cls(
            prefix=f"T{seed}-",
            customers=_obj(customers),
            keys=_obj([f'{{"customer_id":"{c}"}}'.encode() for c in customers]),
            cards=_obj([card_id(ref, k) for k in range(len(ref.card_cust))]),
            stores=_obj([store_id(ref, s) for s in range(len(ref.store_merchant))]),
            store_merchants=_obj([merchant_id(int(m)) for m in ref.store_merchant]),
            products=_obj([product_id(p) for p in range(n_products)]),
            methods=_obj([m.value for m in PAYMENT_METHODS]),
            channels=_obj([c.value for c in CHANNELS]),
        )

    def transaction_id(self, seq: int) -> str:
        return f"{self.prefix}{seq:010d}"


def device_str(code: int) -> str | None:
    if code < 0:
        return None
    if code >= FRAUD_DEVICE_BASE:
        return f"X{code - FRAUD_DEVICE_BASE:08d}"
    return f"D{code // 4:06d}-{code % 4 + 1}"


@dataclass(frozen=True, slots=True)
class TextColumns:
    """The string forms of a batch's fields (shared by JSON and Parquet, so they agree)."""

    transaction_id: list[str]
    event_time: list[str]
    amount: list[str]
    latitude: list[str]
    longitude: list[str]
    device: list[str | None]


def text_columns(batch: Batch, ids: IdTables) -> TextColumns:
    times = np.datetime_as_string(batch.t.astype("datetime64[ms]"), unit="ms")
    return TextColumns(
        transaction_id=[ids.transaction_id(s) for s in batch.seq.tolist()],
        event_time=[f"{t}Z" for t in times.tolist()],
        amount=[f"{c // 100}.{c % 100:02d}" for c in batch.cents.tolist()],
        latitude=[f"{x:.5f}" for x in batch.lat.tolist()],
        longitude=[f"{x:.5f}" for x in batch.lon.tolist()],
        device=[device_str(d) for d in batch.dev.tolist()],
    )


_TEMPLATE = (
    '{"schema_version":1,"transaction_id":"%s%010d","event_time":"%sZ","customer_id":"%s",'
    '"card_id":"%s","merchant_id":"%s","store_id":"%s","product_id":"%s","amount":"%d.%02d",'
    '"currency":"BRL","payment_method":"%s","channel":"%s","latitude":%.5f,"longitude":%.5f,'
    '"device_id":%s}'
)


def encode_batch(batch: Batch, ids: IdTables) -> tuple[list[bytes], list[bytes]]:
    """(values, keys) of every transaction, in batch order.

    One ``%`` format per row over columns gathered with numpy fancy indexing (C loops), then a
    single encode and split: ~3x faster than building each row with f-strings.
    """
    n = len(batch)
    if not n:
        return [], []
    tables = ids
    times = np.datetime_as_string(batch.t.astype("datetime64[ms]"), unit="ms")
    devices = np.full(n, "null", dtype=object)
    has_dev = np.flatnonzero(batch.dev >= 0)
    devices[has_dev] = [f'"{device_str(d)}"' for d in batch.dev[has_dev].tolist()]
    rows = zip(
        [ids.prefix] * n,
        batch.seq.tolist(),
        times.tolist(),
        tables.customers[batch.cust].tolist(),
        tables.cards[batch.card].tolist(),
        tables.store_merchants[batch.store].tolist(),
        tables.stores[batch.store].tolist(),
        tables.products[batch.product].tolist(),
        (batch.cents // 100).tolist(),
        (batch.cents % 100).tolist(),
        tables.methods[batch.pm].tolist(),
        tables.channels[batch.chan].tolist(),
        batch.lat.tolist(),
        batch.lon.tolist(),
        devices.tolist(),
        strict=True,
    )
    values = "\n".join(map(_TEMPLATE.__mod__, rows)).encode().split(b"\n")
    keys = tables.keys[batch.cust].tolist()
    return values, keys


def malformed(value: bytes, kind: str) -> bytes:
    """A broken variant of a valid payload (never a valid transaction, never a real id)."""
    value = value.replace(b'","event_time"', b'-malformed","event_time"', 1)
    if kind == "bad_json":
        return value[: len(value) // 2]
    if kind == "missing_field":
        start = value.index(b'"amount":')
        end = value.index(b",", start) + 1
        return value[:start] + value[end:]
    if kind == "wrong_type":
        start = value.index(b'"customer_id":"') + len(b'"customer_id":')
        end = value.index(b",", start)
        return value[:start] + b"12345" + value[end:]
    if kind == "negative_amount":
        return value.replace(b'"amount":"', b'"amount":"-', 1)
    raise ValueError(f"unknown malformed kind {kind!r}")
