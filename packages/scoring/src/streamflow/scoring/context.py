"""Point-in-time context of a transaction: decayed spending windows (kept in the customer's state),
the merchant's traffic on the days before, and the merchant's and the card's confirmed frauds,
only what was known at the event time.

Windows of 1, 7 and 30 days. Counts and amount sums are exponentially decayed with those time
constants (O(1) state per key, the same result whatever order events arrive in: weights are kept
relative to the newest time seen). Confirmed frauds are kept as report times (``reported_at``, the
moment a chargeback or verdict became known), so "frauds at this merchant in the last 7 days" is
an exact count of labels known by then: a label reported after the transaction never leaks in.
A merchant's traffic is counted per UTC day and read for whole days before the transaction's day,
so it does not depend on the order payments of one day arrive in (the job counts it in the JVM,
keyed by merchant, with the same rules: ``MerchantTraffic.java``; docs/adr/0058).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

WINDOW_DAYS: tuple[int, ...] = (1, 7, 30)
"""The windows every aggregate is kept for."""
_TAUS = tuple(d * 86_400.0 for d in WINDOW_DAYS)
LABEL_HORIZON_SECONDS = 90 * 86_400.0
"""Fraud reports older than this (relative to the newest one) are forgotten."""
MAX_REPORTS = 512
"""At most this many fraud report times are kept per key."""


@dataclass(slots=True, init=False)
class DecayedWindows:
    """Decayed event counts and amount sums over :data:`WINDOW_DAYS`, as of ``ref_time``.

    Its own ``__init__`` (compiled: native; the dataclass's would run as Python, docs/adr/0127).
    """

    ref_time: float
    counts: list[float]
    sums: list[float]

    def __init__(
        self,
        ref_time: float = -math.inf,
        counts: list[float] | None = None,
        sums: list[float] | None = None,
    ) -> None:
        self.ref_time = ref_time
        self.counts = [0.0] * len(_TAUS) if counts is None else counts
        self.sums = [0.0] * len(_TAUS) if sums is None else sums

    def add(self, when: float, amount: float) -> None:
        """Fold one event at ``when`` (POSIX seconds) in; out-of-order events weigh less."""
        if when >= self.ref_time:
            if self.ref_time > -math.inf:
                for i, tau in enumerate(_TAUS):
                    factor = math.exp((self.ref_time - when) / tau)
                    self.counts[i] *= factor
                    self.sums[i] *= factor
            self.ref_time = when
            for i in range(len(_TAUS)):
                self.counts[i] += 1.0
                self.sums[i] += amount
            return
        for i, tau in enumerate(_TAUS):
            weight = math.exp((when - self.ref_time) / tau)
            self.counts[i] += weight
            self.sums[i] += weight * amount

    def copy(self) -> DecayedWindows:
        """An independent copy."""
        return DecayedWindows(self.ref_time, list(self.counts), list(self.sums))

    def at(self, when: float) -> tuple[list[float], list[float]]:
        """(counts, sums) decayed to ``when`` (no decay for a time before ``ref_time``)."""
        if when <= self.ref_time or self.ref_time == -math.inf:
            return list(self.counts), list(self.sums)
        factors = [math.exp((self.ref_time - when) / tau) for tau in _TAUS]
        return (
            [c * f for c, f in zip(self.counts, factors, strict=True)],
            [s * f for s, f in zip(self.sums, factors, strict=True)],
        )


@dataclass(slots=True)
class FraudReports:
    """Report times of confirmed frauds for one key (merchant or card), ascending."""

    whens: list[float] = field(default_factory=list)

    def add(self, when: float) -> None:
        """Record a fraud reported at ``when``; forget reports past the horizon."""
        bisect.insort(self.whens, when)
        horizon = self.whens[-1] - LABEL_HORIZON_SECONDS
        drop = max(bisect.bisect_left(self.whens, horizon), len(self.whens) - MAX_REPORTS)
        if drop > 0:
            del self.whens[:drop]

    def known_at(self, when: float) -> list[int]:
        """Frauds reported in each window ending at ``when`` (reports after ``when`` excluded)."""
        whens = self.whens
        end = bisect.bisect_right(whens, when)
        return [end - bisect.bisect_left(whens, when - tau, 0, end) for tau in _TAUS]

    def last_before(self, when: float) -> float:
        """Time of the latest report at or before ``when``; NaN if none."""
        end = bisect.bisect_right(self.whens, when)
        return self.whens[end - 1] if end else math.nan


DAY_SECONDS = 86_400
TRAFFIC_DAYS = max(WINDOW_DAYS) + 1
"""Day buckets kept per merchant: the longest window plus the current day."""


@dataclass(slots=True)
class MerchantTraffic:
    """A merchant's payments per UTC day over the last :data:`TRAFFIC_DAYS` days.

    Slot ``day % TRAFFIC_DAYS`` holds ``(day, count)``; a payment for a day older than the one its
    slot holds is too old to matter and is dropped. The same rules as the job's JVM operator.
    """

    days: list[int] = field(default_factory=lambda: [-1] * TRAFFIC_DAYS)
    counts: list[int] = field(default_factory=lambda: [0] * TRAFFIC_DAYS)

    def add(self, when: float) -> None:
        """Count one payment at ``when`` (POSIX seconds)."""
        day = math.floor(when / DAY_SECONDS)
        slot = day % TRAFFIC_DAYS
        held = self.days[slot]
        if held == day:
            self.counts[slot] += 1
        elif held < day:
            self.days[slot] = day
            self.counts[slot] = 1

    def before(self, when: float) -> tuple[int, ...]:
        """Payments in the whole days before ``when``'s day, for each of :data:`WINDOW_DAYS`."""
        today = math.floor(when / DAY_SECONDS)
        totals = [0] * len(WINDOW_DAYS)
        for day, count in zip(self.days, self.counts, strict=True):
            age = today - day
            if 0 < age <= TRAFFIC_DAYS:
                for i, window in enumerate(WINDOW_DAYS):
                    if age <= window:
                        totals[i] += count
        return tuple(totals)


NO_TRAFFIC: tuple[int, ...] = (0,) * len(WINDOW_DAYS)
"""No payments known at the merchant on the days before."""

CARD_WINDOW_SECONDS = 90 * 86_400.0
"""The card's fraud history counts reports over this many seconds."""


@dataclass(slots=True, init=False)
class LabelContext:
    """The confirmed frauds known at a transaction's event time, as the features need them.

    The job makes one per event: a class with its own (compiled) ``__init__`` and a
    ``__reduce__`` (a compiled class is unpickled through its constructor; Flink pickles the
    job's functions), docs/adr/0127. Read-only by convention.
    """

    merchant_frauds: tuple[int, ...]
    """Frauds at the transaction's merchant reported in each of :data:`WINDOW_DAYS`."""
    card_frauds: int
    """Frauds on the transaction's card reported in the last :data:`CARD_WINDOW_SECONDS`."""
    card_last_fraud: float
    """Report time of the card's latest fraud up to the event time; NaN if none."""
    merchant_payments: tuple[int, ...]
    """The merchant's payments in the whole days before the event's day (:data:`WINDOW_DAYS`)."""

    def __init__(
        self,
        merchant_frauds: tuple[int, ...],
        card_frauds: int,
        card_last_fraud: float,
        merchant_payments: tuple[int, ...] = NO_TRAFFIC,
    ) -> None:
        self.merchant_frauds = merchant_frauds
        self.card_frauds = card_frauds
        self.card_last_fraud = card_last_fraud
        self.merchant_payments = merchant_payments

    def __reduce__(self) -> tuple[type[LabelContext], tuple[Any, ...]]:
        """Pickled as its constructor call (compiled, the default calls ``__init__()`` bare)."""
        return LabelContext, (
            self.merchant_frauds,
            self.card_frauds,
            self.card_last_fraud,
            self.merchant_payments,
        )


NO_LABELS = LabelContext((0,) * len(WINDOW_DAYS), 0, math.nan)
"""Nothing known about the merchant or the card."""


def card_context(reports: FraudReports | None, when: float) -> tuple[int, float]:
    """(frauds in the card window, latest report time or NaN) from a card's reports."""
    if reports is None:
        return 0, math.nan
    whens = reports.whens
    end = bisect.bisect_right(whens, when)
    count = end - bisect.bisect_left(whens, when - CARD_WINDOW_SECONDS, 0, end)
    return count, whens[end - 1] if end else math.nan


@dataclass(slots=True)
class ContextStore:
    """Confirmed frauds by merchant and by card, from report times (the lab's label store).

    The streaming job keeps the same facts in its broadcast merchant and card labels
    (:class:`streamflow.scoring.merchant_risk.MerchantLabels`) and derives the same
    :class:`LabelContext` from them; the customer's spending windows live in its state.
    """

    merchants: dict[str, FraudReports] = field(default_factory=dict)
    cards: dict[str, FraudReports] = field(default_factory=dict)
    traffic: dict[str, MerchantTraffic] = field(default_factory=dict)

    def record_payment(self, merchant_id: str, when: float) -> None:
        """A payment at the merchant at ``when`` (counted for the days after it)."""
        traffic = self.traffic.get(merchant_id)
        if traffic is None:
            traffic = self.traffic[merchant_id] = MerchantTraffic()
        traffic.add(when)

    def report_fraud(self, merchant_id: str, card_id: str, reported_at: float) -> None:
        """A confirmed fraud became known at ``reported_at``."""
        for store, key in ((self.merchants, merchant_id), (self.cards, card_id)):
            reports = store.get(key)
            if reports is None:
                reports = store[key] = FraudReports()
            reports.add(reported_at)

    def labels_at(self, merchant_id: str, card_id: str, when: float) -> LabelContext:
        """What was known at ``when`` about the merchant's and the card's frauds."""
        merchant = self.merchants.get(merchant_id)
        frauds = (
            tuple(merchant.known_at(when)) if merchant is not None else NO_LABELS.merchant_frauds
        )
        card_count, card_last = card_context(self.cards.get(card_id), when)
        traffic = self.traffic.get(merchant_id)
        payments = traffic.before(when) if traffic is not None else NO_TRAFFIC
        return LabelContext(frauds, card_count, card_last, payments)
