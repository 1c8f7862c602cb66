"""Event-time units (milliseconds) shared by the simulation and the fraud episodes."""

from __future__ import annotations

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
