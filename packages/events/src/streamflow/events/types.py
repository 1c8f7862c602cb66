"""Constrained field types shared by several contracts."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

from streamflow.events import policy
from streamflow.events.currencies import ISO_4217_CODES
from streamflow.events.text import no_nul

Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
]
"""An opaque identifier: letters, digits and ``_.:-``, 1-64 characters."""

Text = Annotated[str, AfterValidator(no_nul)]
"""Free text: anything but U+0000, which neither PostgreSQL ``text`` nor ``jsonb`` can store.

(Lone surrogates need no rule: strict JSON parsing already refuses them.)
"""

Money = Annotated[
    Decimal,
    Field(gt=0, max_digits=policy.AMOUNT_MAX_DIGITS, decimal_places=policy.AMOUNT_DECIMAL_PLACES),
]
"""A positive amount within the policy's digits (0.01 to 999,999,999,999.99), a JSON string."""

Score = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
"""A probability-like score in [0, 1]."""


def _iso_currency(code: str) -> str:
    if code not in ISO_4217_CODES:
        raise ValueError(f"unknown ISO 4217 currency code {code!r}")
    return code


CurrencyCode = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_iso_currency)]
"""An active ISO 4217 alphabetic code such as ``BRL``."""

Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
