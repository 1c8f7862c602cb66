"""``metrics.realtime``: tumbling-window aggregates per store."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key
from streamflow.events.types import Identifier


class WindowMetricsKey(Key):
    """Key of ``metrics.realtime``: the store."""

    store_id: Identifier = Field(description="Store the window aggregates.")


class WindowMetrics(Contract):
    """Counts and sums of one store's transactions in one event-time window."""

    window_start: AwareDatetime = Field(description="Inclusive window start (event time).")
    window_end: AwareDatetime = Field(description="Exclusive window end (event time).")
    window_seconds: int = Field(gt=0, description="Window size: 60, 300 or 3600.")
    store_id: Identifier = Field(description="Store aggregated.")
    count: int = Field(ge=0, description="Transactions in the window.")
    amount_sum: Decimal = Field(ge=0, decimal_places=2, description="Sum of amounts.")
    amount_avg: Decimal = Field(ge=0, decimal_places=2, description="Mean amount.")
    fraud_count: int = Field(ge=0, description="Transactions in the window that raised an alert.")

    def key(self) -> WindowMetricsKey:
        """The Kafka key this record is produced with."""
        return WindowMetricsKey(store_id=self.store_id)
