"""Fast JSON encoding of transaction batches, identical to the contract's strict JSON shape.

A pydantic model per event would put Python work on every event; instead the bytes are
assembled from pre-rendered fragments by Arrow string kernels, a whole batch per call, so the
per-event work stays in Arrow's compiled code. The schema version and the currency are read from
the contract, never written as literals; tests decode samples strictly with
``streamflow.events.decode(Transaction, ...)`` (here and in tests/contracts/), so the fast path
cannot drift from the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamflow.events.transactions import DEFAULT_CURRENCY, Transaction
from streamflow.generator.batch import CHANNELS, FRAUD_DEVICE_BASE, PAYMENT_METHODS, POS, Batch
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


def _arrow(values: list[str], type_: pa.DataType | None = None) -> pa.Array:
    return pa.array(values, type_ or pa.string())


@dataclass(frozen=True, slots=True)
class IdTables:
    """Pre-rendered id strings and JSON fragments of one reference data set.

    Held as Arrow arrays (one buffer each, ~4x smaller than Python strings for 100k customers) and
    gathered per batch with ``take``.
    """

    prefix: str
    customers: pa.Array
    keys: pa.Array
    """The Kafka key ``{"customer_id":"C.."}`` per customer (binary)."""
    cards: pa.Array
    stores: pa.Array
    store_merchants: pa.Array
    products: pa.Array
    methods: pa.Array
    channels: pa.Array
    card_fragments: pa.Array
    """``"customer_id":"C..","card_id":"K.."`` per card."""
    store_fragments: pa.Array
    """``"merchant_id":"M..","store_id":"S.."`` per store."""
    method_channel_fragments: pa.Array
    """``"payment_method":"..","channel":".."`` per (method, channel) pair."""
    store_locations: pa.Array
    """``"latitude":..,"longitude":..`` per store (card-present payments happen there)."""

    @classmethod
    def build(cls, ref: Reference, seed: int) -> IdTables:
        customers = [customer_id(i) for i in range(ref.n_customers)]
        cards = [card_id(ref, k) for k in range(len(ref.card_cust))]
        stores = [store_id(ref, s) for s in range(len(ref.store_merchant))]
        merchants = [merchant_id(int(m)) for m in ref.store_merchant]
        card_fragments = [
            f'"customer_id":"{customers[c]}","card_id":"{k}"'
            for c, k in zip(ref.card_cust.tolist(), cards, strict=True)
        ]
        store_fragments = [
            f'"merchant_id":"{m}","store_id":"{s}"' for m, s in zip(merchants, stores, strict=True)
        ]
        locations = [
            _location(a, b)
            for a, b in zip(ref.store_lat.tolist(), ref.store_lon.tolist(), strict=True)
        ]
        return cls(
            prefix=f"T{seed}-",
            customers=_arrow(customers),
            keys=pa.array([f'{{"customer_id":"{c}"}}'.encode() for c in customers], pa.binary()),
            cards=_arrow(cards),
            stores=_arrow(stores),
            store_merchants=_arrow(merchants),
            products=_arrow(
                [product_id(p) for p in range(len(CATEGORIES) * PRODUCTS_PER_CATEGORY)]
            ),
            methods=_arrow([m.value for m in PAYMENT_METHODS]),
            channels=_arrow([c.value for c in CHANNELS]),
            card_fragments=_arrow(card_fragments),
            store_fragments=_arrow(store_fragments),
            method_channel_fragments=_arrow(
                [
                    f'"payment_method":"{m.value}","channel":"{c.value}"'
                    for m in PAYMENT_METHODS
                    for c in CHANNELS
                ]
            ),
            store_locations=_arrow(locations),
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


def _location(lat: float, lon: float) -> str:
    return f'"latitude":{lat:.5f},"longitude":{lon:.5f}'


def _locations(batch: Batch, ids: IdTables) -> list[str]:
    """Location fragments: a card-present payment is at its store (pre-rendered per store)."""
    out = ids.store_locations.take(pa.array(batch.store)).to_numpy(zero_copy_only=False)
    elsewhere = np.flatnonzero(batch.chan != POS)
    out[elsewhere] = [
        _location(a, b)
        for a, b in zip(batch.lat[elsewhere].tolist(), batch.lon[elsewhere].tolist(), strict=True)
    ]
    locations: list[str] = out.tolist()
    return locations


def encode_batch(batch: Batch, ids: IdTables) -> tuple[list[bytes], list[bytes]]:
    """(values, keys) of every transaction, in batch order.

    The JSON is assembled column-wise by Arrow's C++ string kernels from pre-rendered fragments:
    fields fixed by the card (customer + card), the store (merchant + store, and the location of
    card-present payments) and the payment method + channel pair.
    """
    n = len(batch)
    if not n:
        return [], []
    devices = np.full(n, "null", dtype=object)
    has_dev = np.flatnonzero(batch.dev >= 0)
    devices[has_dev] = [f'"{device_str(d)}"' for d in batch.dev[has_dev].tolist()]
    times = np.datetime_as_string(batch.t.astype("datetime64[ms]"), unit="ms")
    joined = pc.binary_join_element_wise(
        f'{{"schema_version":{Transaction.SCHEMA_VERSION},"transaction_id":"{ids.prefix}',
        pc.utf8_lpad(pc.cast(pa.array(batch.seq), pa.string()), 10, "0"),
        '","event_time":"',
        pa.array(times, pa.string()),
        'Z",',
        ids.card_fragments.take(pa.array(batch.card)),
        ",",
        ids.store_fragments.take(pa.array(batch.store)),
        ',"product_id":"',
        ids.products.take(pa.array(batch.product)),
        '","amount":"',
        pc.cast(pa.array(batch.cents // 100), pa.string()),
        ".",
        pc.utf8_lpad(pc.cast(pa.array(batch.cents % 100), pa.string()), 2, "0"),
        f'","currency":"{DEFAULT_CURRENCY}",',
        ids.method_channel_fragments.take(pa.array(batch.pm * len(CHANNELS) + batch.chan)),
        ",",
        pa.array(_locations(batch, ids), pa.string()),
        ',"device_id":',
        pa.array(devices.tolist(), pa.string()),
        "}",
        "",
    )
    values: list[bytes] = joined.cast(pa.binary()).to_pylist()
    keys: list[bytes] = ids.keys.take(pa.array(batch.cust)).to_pylist()
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
