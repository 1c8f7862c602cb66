"""The core's values survive pickling, as Python and compiled: Flink pickles the job's functions
with whatever they hold, and the lab hands values between processes (docs/adr/0123)."""

from __future__ import annotations

import math
import pickle
from typing import Any

import cloudpickle
import pytest

from streamflow.scoring.context import (
    NO_LABELS,
    ContextStore,
    DecayedWindows,
    FraudReports,
    LabelContext,
    MerchantTraffic,
)
from streamflow.scoring.core import NO_SUPERVISED, CustomerState, Supervised
from streamflow.scoring.merchant_risk import MerchantLabels, MerchantRisk
from streamflow.scoring.scoring import Evaluation, PartResult
from streamflow.scoring.view import TxnView


def _windows() -> DecayedWindows:
    windows = DecayedWindows()
    windows.add(1_000.0, 12.5)
    return windows


def _store() -> ContextStore:
    store = ContextStore()
    store.report_fraud("M1", "K1", 5_000.0)
    store.record_payment("M1", 4_000.0)
    return store


VALUES: list[Any] = [
    NO_LABELS,
    LabelContext((1, 2, 3), 1, 7.5, (4, 5, 6)),
    NO_SUPERVISED,
    Supervised(None, None, LabelContext((0, 1, 1), 2, 3.0), want_features=True),
    MerchantRisk(1.5, 20.0, 1234.0),
    MerchantLabels.empty(),
    _windows(),
    FraudReports([1.0, 2.0]),
    MerchantTraffic(),
    _store(),
    CustomerState(count=3, mean=10.0, recent=[1.0, 2.0], devices=[7], spending=_windows()),
    PartResult("FR-001", True, 0.7, 1.0, 0.7, "why"),
    Evaluation(0.7, [PartResult("FR-001", True, 0.7, 1.0, 0.7, "why")], None),
    TxnView("t1", 1.0, "C1", "K1", "M1", 10.0, "BRL", "online", math.nan, math.nan),
]


def _same(left: Any, right: Any) -> bool:
    """Equal, reading NaN as equal to NaN (a state's unknown times and places)."""
    return repr(left) == repr(right)


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
def test_a_value_survives_pickling(value: Any, dumps: Any) -> None:
    copy = pickle.loads(dumps(value))
    assert type(copy) is type(value)
    assert _same(copy, value)
