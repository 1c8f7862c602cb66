"""Test data of the scoring core's tests: fixed times and places, the transaction factory's type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from streamflow.events import Transaction

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SAO_PAULO = (-23.55, -46.63)
MANAUS = (-3.12, -60.02)

MakeTxn = Callable[..., Transaction]
