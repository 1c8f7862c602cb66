"""Plain-Python record helpers of the scoring job: keys, dead letters, amounts in cents, and
the merchant traffic the JVM puts ahead of each raw value.

Nothing here touches Flink, so it is unit-tested directly. Sink records are ``(key, value)``
pairs of strings: the key is the topic's JSON key (``{"customer_id":"C1"}``), the value the JSON
contract. A dead letter is built by :meth:`DeadLetter.from_raw`, which makes its reason storable
(a contract error may quote a field name holding U+0000) and keeps the raw bytes exactly, so the
DLQ record the job writes always encodes and lands in bronze.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from streamflow.events import DeadLetter, Stage, encode
from streamflow.scoring.context import NO_TRAFFIC


def to_cents(amount: Decimal) -> int:
    """An amount with two decimal places as integer cents."""
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_EVEN))


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
