"""Plain-Python record helpers of the scoring job: keys, dead letters, window aggregates, and
the merchant traffic the JVM puts ahead of each raw value.

Nothing here touches Flink, so it is unit-tested directly. Sink records are ``(key, value)``
pairs of strings: the key is the topic's JSON key (``{"customer_id":"C1"}``), the value the JSON
contract. A dead letter is built by :meth:`DeadLetter.from_raw`, which makes its reason storable
(a contract error may quote a field name holding U+0000) and keeps the raw bytes exactly, so the
DLQ record the job writes always encodes and lands in bronze.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from streamflow.events import DeadLetter, Stage, WindowMetrics, encode
from streamflow.scoring.context import NO_TRAFFIC

CENT = Decimal("0.01")


class WindowAggregate(NamedTuple):
    """Running sums of one store's transactions (amounts in cents, so sums stay exact)."""

    store_id: str
    count: int  # type: ignore[assignment]  # shadows tuple.count, on purpose
    amount_cents: int
    fraud_count: int


def to_cents(amount: Decimal) -> int:
    """An amount with two decimal places as integer cents."""
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_EVEN))


def merge(left: WindowAggregate, right: WindowAggregate) -> WindowAggregate:
    """The aggregate of two disjoint sets of the same store's transactions."""
    return WindowAggregate(
        left.store_id,
        left.count + right.count,
        left.amount_cents + right.amount_cents,
        left.fraud_count + right.fraud_count,
    )


def window_metrics(agg: WindowAggregate, start_ms: int, end_ms: int) -> WindowMetrics:
    """The ``metrics.realtime`` record of one closed window."""
    total = Decimal(agg.amount_cents) / 100
    avg = (total / agg.count).quantize(CENT, ROUND_HALF_EVEN) if agg.count else Decimal("0.00")
    return WindowMetrics(
        window_start=datetime.fromtimestamp(start_ms / 1000, UTC),
        window_end=datetime.fromtimestamp(end_ms / 1000, UTC),
        window_seconds=(end_ms - start_ms) // 1000,
        store_id=agg.store_id,
        count=agg.count,
        amount_sum=total.quantize(CENT),
        amount_avg=avg,
        fraud_count=agg.fraud_count,
    )


def raw_bytes(raw: str) -> bytes:
    """The bytes of a raw value the job received as text (lone surrogates kept, never raised).

    ``surrogateescape`` restores bytes a lenient decoder smuggled in as U+DC80-U+DCFF; any other
    lone surrogate is written as is (``surrogatepass``), which is not UTF-8, so the dead letter
    keeps it as base64.
    """
    try:
        return raw.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return raw.encode("utf-8", errors="surrogatepass")


def dead_letter(  # noqa: PLR0917 - all are needed
    stage: Stage, topic: str, raw: str, error_type: str, message: str, now: datetime
) -> tuple[str, str]:
    """A ``streamflow.dlq`` record ``(key, value)`` for a rejected raw value; it cannot fail."""
    letter = DeadLetter.from_raw(
        stage=stage,
        source_topic=topic,
        raw=raw_bytes(raw),
        error_type=error_type,
        error_message=message,
        failed_at=now,
    )
    return topic, encode(letter).decode("utf-8")


TRAFFIC_SEPARATOR = "\x1e"
"""Ends the traffic counts ahead of a raw value (the Java ``MerchantTraffic.SEPARATOR``)."""


def split_traffic(value: str) -> tuple[tuple[int, ...], str]:
    """``(payments per window, raw value)`` of a value from the job's merchant-traffic hop
    (:func:`streamflow.fraud_scorer.connectors.with_merchant_traffic`).

    The counts never hold the separator, so the first one ends them whatever the raw value holds.
    No counts (the JVM could not read the event time; the contract usually rejects such a record
    too) gives :data:`NO_TRAFFIC`, a merchant without traffic. A value without any separator is
    taken whole (the function's unit tests feed raw values).
    """
    head, sep, raw = value.partition(TRAFFIC_SEPARATOR)
    if not sep:
        return NO_TRAFFIC, value
    if not head:
        return NO_TRAFFIC, raw
    return tuple(map(int, head.split(","))), raw
