"""Fixtures of the scoring core's tests (helpers in ``scoring_testdata``, put on sys.path here)."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scoring_testdata import SAO_PAULO, T0, MakeTxn

from streamflow.events import Channel, PaymentMethod, Transaction


@pytest.fixture
def make_txn() -> MakeTxn:
    """Build a transaction; keyword arguments override the defaults."""
    counter = iter(range(1_000_000))

    def build(**overrides: Any) -> Transaction:
        fields: dict[str, Any] = {
            "transaction_id": f"tx-{next(counter):06d}",
            "event_time": T0,
            "customer_id": "C0001",
            "card_id": "K0001-1",
            "merchant_id": "M0001",
            "store_id": "S0001",
            "amount": Decimal("100.00"),
            "payment_method": PaymentMethod.CREDIT_CARD,
            "channel": Channel.POS,
            "latitude": SAO_PAULO[0],
            "longitude": SAO_PAULO[1],
        }
        fields.update(overrides)
        return Transaction(**fields)

    return build


@pytest.fixture
def blacklist_file(tmp_path: Path) -> Path:
    """A blacklist with the synthetic data's stolen card."""
    path = tmp_path / "blacklist.json"
    path.write_text('{"card_ids": ["K-STOLEN-1"], "merchant_ids": ["M-BAD"]}')
    return path
