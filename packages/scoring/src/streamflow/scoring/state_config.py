"""State sizes and lifetimes of the scorer, declared in one place.

The PyFlink job reads its state TTLs from here; the core uses the same caps so the backtest and
the job keep exactly the same state.
"""

from __future__ import annotations

from datetime import timedelta

CUSTOMER_STATE_TTL = timedelta(days=30)
"""A customer's state expires after this long without a transaction (Flink state TTL)."""

MERCHANT_STATE_TTL = timedelta(days=90)
"""A merchant's feedback-learned risk expires after this long without feedback."""

VELOCITY_HORIZON_SECONDS = 86_400
"""Recent event times older than this are dropped (the largest window a rule may ask for)."""

VELOCITY_MAX_EVENTS = 64
"""At most this many recent event times are kept per customer (bounds the state size)."""

MAX_DEVICES = 8
"""At most this many device fingerprints are remembered per customer (most recent kept)."""

MIN_HOUR_STD_HOURS = 1.0
"""Floor of a customer's hour-of-day spread, so very regular customers are not over-flagged."""

MIN_TRAVEL_SHARE = 1.0
"""Impossible travel needs at least this share of the rule's distance (nearby cities and GPS
noise between close shops are never 'impossible', however short the time between them)."""

MIN_TRAVEL_HOURS = 1.0 / 60.0
"""Time gaps shorter than a minute count as a minute when computing a travel speed."""

NO_HISTORY_GAP_SECONDS = 30 * 86_400.0
"""The gap feature's value when the customer has no previous transaction."""
