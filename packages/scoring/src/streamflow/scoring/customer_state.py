"""Per-customer state: amount statistics, hour-of-day statistics, last location, recent times.

Amounts use Welford's online mean/variance. Hours of day are circular (23:00 is next to 01:00), so
they are summarised by the sums of the cosine and sine of the hour angle: the circular mean and
spread follow from those two numbers. The state serialises to a compact fixed layout with
:mod:`struct` (one Flink ValueState of bytes).
"""

from __future__ import annotations

import bisect
import math
import struct
from dataclasses import dataclass

from streamflow.scoring.context import WINDOW_DAYS, DecayedWindows
from streamflow.scoring.state_config import (
    MAX_DEVICES,
    MIN_HOUR_STD_HOURS,
    VELOCITY_HORIZON_SECONDS,
    VELOCITY_MAX_EVENTS,
)
from streamflow.scoring.view import TxnView

_FORMAT_VERSION = 2
_FORMAT_V1 = 1
_HEADER = struct.Struct("<BIddddddddIHB")
_SPENDING = struct.Struct(f"<d{2 * len(WINDOW_DAYS)}d")
_FIXED = 13
"""Values in the header."""
_LAYOUTS: dict[tuple[int, int], struct.Struct] = {}


def _layout(recent: int, devices: int) -> struct.Struct:
    """The whole format-2 record as one Struct (header, times, devices, windows): one ``pack``
    or ``unpack`` per event instead of four. ``<`` has no padding, so the bytes are the parts'
    concatenation; the sizes are bounded by the state's limits, so the cache is small."""
    layout = _LAYOUTS.get((recent, devices))
    if layout is None:
        layout = _LAYOUTS[recent, devices] = struct.Struct(
            f"{_HEADER.format}{recent}d{devices}I{_SPENDING.format[1:]}"
        )
    return layout


_TWO_PI = 2.0 * math.pi
_NAN = math.nan


class StateFormatError(ValueError):
    """Bytes that are not a serialised state of a known format version."""


@dataclass(slots=True, init=False)
class CustomerState:
    """What the scorer remembers about one customer.

    Its own ``__init__``, not the dataclass's: compiled, that is a native constructor, where the
    generated one runs as Python (one or two per event, docs/adr/0127).
    """

    count: int
    mean: float
    m2: float
    hour_cos: float
    hour_sin: float
    last_time: float
    """Event time (POSIX seconds) of the latest transaction seen."""
    loc_time: float
    """Event time of the latest transaction that had a location."""
    lat: float
    lon: float
    last_merchant: int
    """CRC-32 of the merchant of the latest transaction seen (0 before any)."""
    recent: list[float]
    """Sorted event times of recent transactions (bounded, see state_config)."""
    devices: list[int]
    """CRC-32s of the devices seen, most recent last (bounded, see state_config)."""
    spending: DecayedWindows
    """Decayed payment counts and amounts over 1, 7 and 30 days (every payment, alerted or not)."""

    def __init__(  # noqa: PLR0917 - the state's fields
        self,
        count: int = 0,
        mean: float = 0.0,
        m2: float = 0.0,
        hour_cos: float = 0.0,
        hour_sin: float = 0.0,
        last_time: float = _NAN,
        loc_time: float = _NAN,
        lat: float = _NAN,
        lon: float = _NAN,
        last_merchant: int = 0,
        recent: list[float] | None = None,
        devices: list[int] | None = None,
        spending: DecayedWindows | None = None,
    ) -> None:
        self.count = count
        self.mean = mean
        self.m2 = m2
        self.hour_cos = hour_cos
        self.hour_sin = hour_sin
        self.last_time = last_time
        self.loc_time = loc_time
        self.lat = lat
        self.lon = lon
        self.last_merchant = last_merchant
        self.recent = [] if recent is None else recent
        self.devices = [] if devices is None else devices
        self.spending = DecayedWindows() if spending is None else spending

    @property
    def std(self) -> float:
        """Sample standard deviation of the amounts (0 with fewer than two)."""
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0

    def copy(self) -> CustomerState:
        """An independent copy (the recent list is not shared)."""
        return CustomerState(
            self.count,
            self.mean,
            self.m2,
            self.hour_cos,
            self.hour_sin,
            self.last_time,
            self.loc_time,
            self.lat,
            self.lon,
            self.last_merchant,
            list(self.recent),
            list(self.devices),
            self.spending.copy(),
        )

    def usual_hour(self) -> tuple[float, float]:
        """The circular mean hour and the spread in hours (floored), from the cos/sin sums."""
        if self.count == 0:
            return 0.0, 12.0
        mean_angle = math.atan2(self.hour_sin, self.hour_cos)
        resultant = math.hypot(self.hour_cos, self.hour_sin) / self.count
        if resultant >= 1.0:
            spread = 0.0
        elif resultant <= 1e-12:
            spread = 12.0
        else:
            spread = math.sqrt(-2.0 * math.log(resultant)) * 24.0 / _TWO_PI
        return (mean_angle / _TWO_PI * 24.0) % 24.0, max(spread, MIN_HOUR_STD_HOURS)

    def hour_z(self, hour: float) -> tuple[float, float]:
        """How many spreads ``hour`` is from the usual hour; also returns the usual hour."""
        usual, spread = self.usual_hour()
        diff = abs(hour - usual) % 24.0
        return min(diff, 24.0 - diff) / spread, usual

    def count_in_window(self, epoch: float, window_seconds: float) -> int:
        """Previous transactions with event time in ``[epoch - window, epoch]``."""
        recent = self.recent
        return bisect.bisect_right(recent, epoch) - bisect.bisect_left(
            recent, epoch - window_seconds
        )

    def update(self, txn: TxnView, baseline: bool = True) -> None:
        """Fold one transaction into the state (in place).

        ``baseline=False`` (an alerted transaction) keeps it out of the amount and hour statistics
        so a fraud episode does not raise the customer's average and hide its own later payments;
        it still counts for velocity, location, devices and the last merchant.
        """
        self.spending.add(txn.epoch, txn.amount)
        if baseline:
            self._learn_habits(txn)
        if math.isnan(self.last_time) or txn.epoch >= self.last_time:
            self.last_time = txn.epoch
            self.last_merchant = txn.merchant
        if txn.has_location and (math.isnan(self.loc_time) or txn.epoch >= self.loc_time):
            self.loc_time, self.lat, self.lon = txn.epoch, txn.lat, txn.lon
        self._remember(txn)

    def _learn_habits(self, txn: TxnView) -> None:
        self.count += 1
        delta = txn.amount - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (txn.amount - self.mean)
        angle = txn.hour / 24.0 * _TWO_PI
        self.hour_cos += math.cos(angle)
        self.hour_sin += math.sin(angle)

    def _remember(self, txn: TxnView) -> None:
        if txn.device >= 0:
            devices = self.devices
            if txn.device in devices:
                devices.remove(txn.device)
            devices.append(txn.device)
            if len(devices) > MAX_DEVICES:
                del devices[0]
        recent = self.recent
        bisect.insort(recent, txn.epoch)
        horizon = self.last_time - VELOCITY_HORIZON_SECONDS
        drop = bisect.bisect_left(recent, horizon)
        drop = max(drop, len(recent) - VELOCITY_MAX_EVENTS)
        if drop > 0:
            del recent[:drop]

    def to_bytes(self) -> bytes:
        """The compact serialised form (little-endian, versioned)."""
        recent, devices, spending = self.recent, self.devices, self.spending
        return _layout(len(recent), len(devices)).pack(
            _FORMAT_VERSION,
            self.count,
            self.mean,
            self.m2,
            self.hour_cos,
            self.hour_sin,
            self.last_time,
            self.loc_time,
            self.lat,
            self.lon,
            self.last_merchant,
            len(recent),
            len(devices),
            *recent,
            *devices,
            spending.ref_time,
            *spending.counts,
            *spending.sums,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> CustomerState:
        """Parse :meth:`to_bytes` output; raises :class:`StateFormatError` on anything else.

        Format 1 (before the spending windows) is read with empty windows, so state restored from
        an older checkpoint keeps working; the next update writes format 2.
        """
        if len(data) < _HEADER.size or data[0] not in (_FORMAT_V1, _FORMAT_VERSION):
            raise StateFormatError("not a customer state of format version 1 or 2")
        (version, count, mean, m2, hcos, hsin, last, loc_time, lat, lon, merchant, n, d) = (
            _HEADER.unpack_from(data)
        )
        tail = _SPENDING.size if version == _FORMAT_VERSION else 0
        if len(data) != _HEADER.size + 8 * n + 4 * d + tail:
            raise StateFormatError("customer state has the wrong length")
        if tail:
            values = _layout(n, d).unpack(data)
            recent = list(values[_FIXED : _FIXED + n])
            devices = list(values[_FIXED + n : _FIXED + n + d])
            ref, w = values[_FIXED + n + d], len(WINDOW_DAYS)
            spending = DecayedWindows(ref, list(values[-2 * w : -w]), list(values[-w:]))
        else:
            recent = list(struct.unpack_from(f"<{n}d", data, _HEADER.size))
            devices = list(struct.unpack_from(f"<{d}I", data, _HEADER.size + 8 * n))
            spending = DecayedWindows()
        return cls(
            count,
            mean,
            m2,
            hcos,
            hsin,
            last,
            loc_time,
            lat,
            lon,
            merchant,
            recent,
            devices,
            spending,
        )
