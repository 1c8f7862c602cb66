"""Per-merchant compromise risk learned from ``fraud.feedback``, decaying over time.

Each label adds one unit of weight (fraud or legit) that halves every ``half_life_days``. The
weights are stored relative to a reference time, so feedback arriving out of order adds the same
amount as in order. The risk is the decayed fraud share, shrunk towards zero by a prior of
:data:`PRIOR_WEIGHT` legit-like units, so one chargeback alone does not mark a merchant.
:class:`MerchantLabels` keeps the labels themselves, so the streaming job can ask for the risk as
of a transaction's event time, as the backtest does, whatever order feedback arrives in.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from streamflow.events import Feedback, Label
from streamflow.scoring.context import (
    NO_LABELS,
    NO_TRAFFIC,
    FraudReports,
    LabelContext,
    card_context,
)
from streamflow.scoring.customer_state import StateFormatError

PRIOR_WEIGHT = 3.0
"""Pseudo-count of legit weight: 1 fresh fraud -> risk 0.25, 3 -> 0.5, 9 -> 0.75."""

_FORMAT = struct.Struct("<Bddd")
_FORMAT_VERSION = 1
_LN2 = math.log(2.0)


class MerchantRisk(NamedTuple):
    """Decayed fraud and legit label weights of one merchant, as of ``ref_time``.

    A named tuple: picklable compiled (made as labels are folded in, not per event).
    """

    fraud: float
    legit: float
    ref_time: float
    """POSIX seconds the weights refer to (the latest feedback time seen)."""

    def to_bytes(self) -> bytes:
        """Compact serialised form."""
        return _FORMAT.pack(_FORMAT_VERSION, self.fraud, self.legit, self.ref_time)

    @classmethod
    def from_bytes(cls, data: bytes) -> MerchantRisk:
        """Parse :meth:`to_bytes` output."""
        if len(data) != _FORMAT.size or data[0] != _FORMAT_VERSION:
            raise StateFormatError("not a merchant risk of format version 1")
        _, fraud, legit, ref_time = _FORMAT.unpack(data)
        return cls(fraud, legit, ref_time)


def _decay(seconds: float, half_life_days: float) -> float:
    return math.exp(-_LN2 * seconds / (half_life_days * 86_400.0))


def apply_label(
    risk: MerchantRisk | None, is_fraud: bool, when: float, half_life_days: float
) -> MerchantRisk:
    """Add one label observed at ``when`` (POSIX seconds)."""
    if risk is None:
        risk = MerchantRisk(0.0, 0.0, when)
    if when >= risk.ref_time:
        factor = _decay(when - risk.ref_time, half_life_days)
        fraud, legit, ref = risk.fraud * factor, risk.legit * factor, when
        unit = 1.0
    else:
        fraud, legit, ref = risk.fraud, risk.legit, risk.ref_time
        unit = _decay(risk.ref_time - when, half_life_days)
    if is_fraud:
        fraud += unit
    else:
        legit += unit
    return MerchantRisk(fraud, legit, ref)


def apply_feedback(
    risk: MerchantRisk | None, feedback: Feedback, half_life_days: float
) -> MerchantRisk:
    """Fold one ``fraud.feedback`` record into the merchant's risk."""
    return apply_label(
        risk, feedback.label is Label.FRAUD, feedback.reported_at.timestamp(), half_life_days
    )


def risk_value(risk: MerchantRisk | None, when: float, half_life_days: float) -> float:
    """The risk in [0, 1] at ``when`` (POSIX seconds)."""
    if risk is None or risk.fraud <= 0.0:
        return 0.0
    factor = _decay(when - risk.ref_time, half_life_days) if when > risk.ref_time else 1.0
    fraud = risk.fraud * factor
    return fraud / (fraud + risk.legit * factor + PRIOR_WEIGHT)


def risk_at(risk: MerchantRisk | None, when: datetime, half_life_days: float) -> float:
    """The risk in [0, 1] of a merchant at ``when`` (e.g. a transaction's event time)."""
    return risk_value(risk, when.timestamp(), half_life_days)


LABEL_HORIZON_HALF_LIVES = 20.0
"""Labels older than this many half-lives before a merchant's newest one (weight < 1e-6) are
folded into the merchant's base risk and no longer kept one by one."""
MAX_LABELS = 4_096
"""At most this many labels are kept one by one per merchant; older ones go into the base."""

_LABELS_HEADER = struct.Struct("<BBdddI")
_LABEL_V2 = struct.Struct("<dB")
_LABEL = struct.Struct("<dBQ")
_LABELS_FORMAT_VERSION = 3
_LABELS_V2 = 2
NO_FACT = 0
"""The fact id of a label whose identity is unknown (state written before format 3)."""


def label_fact(transaction_id: str, source: str) -> int:
    """A label's identity, ``(transaction_id, source)``, as a non-zero 64-bit number.

    A label is a fact per transaction and source: a repeat of it (a re-published outbox row, a
    re-sent chargeback) or an analyst's changed verdict replaces the one kept, never adds
    (docs/adr/0057). 64 bits of BLAKE2b: a collision among one merchant's <= 4,096 kept labels
    has a probability of ~5e-13.
    """
    digest = hashlib.blake2b(f"{transaction_id}\x1f{source}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def feedback_fact(feedback: Feedback) -> int:
    """:func:`label_fact` of a ``fraud.feedback`` record."""
    return label_fact(feedback.transaction_id, feedback.source.value)


@dataclass(slots=True)
class MerchantLabels:
    """A merchant's confirmed labels by report time, for its risk *as of* any event time.

    The streaming job receives ``fraud.feedback`` in arrival order, which in a replay or backfill
    is far ahead of the transactions being scored. Folding every label in at once would let a
    transaction see chargebacks reported after it happened. Keeping the labels (sorted by report
    time) lets the job score a transaction with exactly the labels reported up to its event time,
    as the backtest does, whatever the arrival order (docs/adr/0040).

    Each kept label remembers its fact id (:func:`label_fact`): a label of a fact already kept
    replaces it, the later report winning (docs/adr/0057). That de-duplication reaches as far as
    labels are kept one by one: :data:`LABEL_HORIZON_HALF_LIVES` half-lives behind the merchant's
    newest label, at most :data:`MAX_LABELS`; a repeat of a label already folded into ``base``
    adds again, with the weight of its own report time (below 1e-6 past the horizon).
    """

    base: MerchantRisk | None
    """Labels too old to keep one by one, folded together."""
    whens: list[float]
    """Report times (POSIX seconds), ascending; ties keep arrival order."""
    frauds: list[bool]
    facts: list[int]
    """Fact id of each label (:data:`NO_FACT` for labels restored from format 2)."""
    _prefix: list[MerchantRisk | None] | None = None
    _prefix_half_life: float = 0.0
    _fraud_reports: FraudReports | None = None

    @classmethod
    def empty(cls) -> MerchantLabels:
        """No labels yet."""
        return cls(None, [], [], [])

    def add(self, when: float, is_fraud: bool, half_life_days: float, fact: int = NO_FACT) -> None:
        """Insert one label reported at ``when`` (POSIX seconds); with a ``fact`` id, a label of
        the same fact already kept is replaced (an older report than the kept one is ignored)."""
        if fact != NO_FACT and fact in self.facts:
            kept = self.facts.index(fact)
            if when < self.whens[kept]:
                return
            del self.whens[kept], self.frauds[kept], self.facts[kept]
        at = bisect.bisect_right(self.whens, when)
        self.whens.insert(at, when)
        self.frauds.insert(at, is_fraud)
        self.facts.insert(at, fact)
        self._prefix = None
        self._fraud_reports = None
        horizon = self.whens[-1] - LABEL_HORIZON_HALF_LIVES * half_life_days * 86_400.0
        keep_from = max(bisect.bisect_left(self.whens, horizon), len(self.whens) - MAX_LABELS)
        for i in range(keep_from):
            self.base = apply_label(self.base, self.frauds[i], self.whens[i], half_life_days)
        del self.whens[:keep_from], self.frauds[:keep_from], self.facts[:keep_from]

    def add_feedback(self, feedback: Feedback, half_life_days: float) -> None:
        """:meth:`add` one ``fraud.feedback`` record as its fact (transaction, source)."""
        self.add(
            feedback.reported_at.timestamp(),
            feedback.label is Label.FRAUD,
            half_life_days,
            feedback_fact(feedback),
        )

    def fraud_reports(self) -> FraudReports:
        """The report times of the kept fraud labels (what the point-in-time features count)."""
        if self._fraud_reports is None:
            whens = [w for w, fraud in zip(self.whens, self.frauds, strict=True) if fraud]
            self._fraud_reports = FraudReports(whens)
        return self._fraud_reports

    def risk_at(self, when: float, half_life_days: float) -> float:
        """The risk in [0, 1] at ``when`` from the labels reported up to then."""
        if self._prefix is None or self._prefix_half_life != half_life_days:
            prefix = [self.base]
            for at, fraud in zip(self.whens, self.frauds, strict=True):
                prefix.append(apply_label(prefix[-1], fraud, at, half_life_days))
            self._prefix, self._prefix_half_life = prefix, half_life_days
        return risk_value(self._prefix[bisect.bisect_right(self.whens, when)], when, half_life_days)

    def to_bytes(self) -> bytes:
        """Compact serialised form (format version 3: each label with its fact id)."""
        base = self.base
        header = _LABELS_HEADER.pack(
            _LABELS_FORMAT_VERSION,
            base is not None,
            base.fraud if base else 0.0,
            base.legit if base else 0.0,
            base.ref_time if base else 0.0,
            len(self.whens),
        )
        labels = b"".join(
            _LABEL.pack(at, fraud, fact)
            for at, fraud, fact in zip(self.whens, self.frauds, self.facts, strict=True)
        )
        return header + labels

    @classmethod
    def from_bytes(cls, data: bytes) -> MerchantLabels:
        """Parse :meth:`to_bytes` output; a version-1 :class:`MerchantRisk` becomes the base and
        version-2 labels (no fact ids) are kept as :data:`NO_FACT`."""
        if data[:1] == bytes([_FORMAT_VERSION]):
            return cls(MerchantRisk.from_bytes(data), [], [], [])
        if len(data) < _LABELS_HEADER.size or data[0] not in (_LABELS_V2, _LABELS_FORMAT_VERSION):
            raise StateFormatError("not merchant labels of format version 2 or 3")
        version, has_base, fraud, legit, ref_time, count = _LABELS_HEADER.unpack_from(data)
        label = _LABEL if version == _LABELS_FORMAT_VERSION else _LABEL_V2
        if len(data) != _LABELS_HEADER.size + count * label.size:
            raise StateFormatError("merchant labels are truncated")
        whens, frauds, facts = [], [], []
        for at, is_fraud, *fact in label.iter_unpack(data[_LABELS_HEADER.size :]):
            whens.append(at)
            frauds.append(bool(is_fraud))
            facts.append(fact[0] if fact else NO_FACT)
        base = MerchantRisk(fraud, legit, ref_time) if has_base else None
        return cls(base, whens, frauds, facts)


def label_context(
    merchant: MerchantLabels | None,
    card: MerchantLabels | None,
    when: float,
    payments: tuple[int, ...] = NO_TRAFFIC,
) -> LabelContext:
    """The frauds known at ``when`` at a merchant and on a card, from the job's kept labels,
    with the merchant's ``payments`` on the days before (counted by the job's JVM operator).

    The same :class:`LabelContext` the lab derives from its :class:`ContextStore`: both count
    fraud labels by report time, so the job and the backtest see the same features.
    """
    if merchant is None and card is None and payments == NO_TRAFFIC:
        return NO_LABELS
    frauds = (
        tuple(merchant.fraud_reports().known_at(when))
        if merchant is not None
        else NO_LABELS.merchant_frauds
    )
    count, last = card_context(card.fraud_reports() if card is not None else None, when)
    return LabelContext(frauds, count, last, payments)
