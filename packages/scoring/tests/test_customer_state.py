"""CustomerState: Welford statistics, circular hours, bounded velocity/devices, serialisation."""

from __future__ import annotations

import math
import statistics

import pytest

from streamflow.scoring.customer_state import CustomerState, StateFormatError
from streamflow.scoring.state_config import MAX_DEVICES, VELOCITY_MAX_EVENTS
from streamflow.scoring.view import TxnView

DAY = 86_400.0


def view(epoch: float, amount: float = 10.0, device: int = -1, lat: float = 1.0) -> TxnView:
    return TxnView("t", epoch, "C", "K", "M", amount, "BRL", "pos", lat, 2.0, device)


def test_welford_matches_statistics() -> None:
    amounts = [12.5, 80.0, 33.3, 47.1, 5.0, 120.0]
    state = CustomerState()
    for i, amount in enumerate(amounts):
        state.update(view(i * DAY, amount))
    assert state.count == 6
    assert state.mean == pytest.approx(statistics.mean(amounts))
    assert state.std == pytest.approx(statistics.stdev(amounts))


def test_hours_are_circular() -> None:
    state = CustomerState()
    for day, hour in enumerate([23.0, 1.0, 23.5, 0.5]):
        state.update(view(day * DAY + hour * 3600))
    usual, spread = state.usual_hour()
    assert min(usual, 24 - usual) < 0.1  # around midnight, not noon
    assert spread >= 1.0
    z_near, _ = state.hour_z(0.0)
    z_far, _ = state.hour_z(12.0)
    assert z_near < 1.0 < 5.0 < z_far


def test_empty_state_hours() -> None:
    assert CustomerState().usual_hour() == (0.0, 12.0)


def test_velocity_window_is_bounded_and_counts_prior_events() -> None:
    state = CustomerState()
    for i in range(VELOCITY_MAX_EVENTS + 20):
        state.update(view(1000.0 + i))
    assert len(state.recent) == VELOCITY_MAX_EVENTS
    assert state.count_in_window(1083.0, 10) == 11
    assert state.count_in_window(2000.0, 10) == 0
    state.update(view(1000.0 + 3 * DAY))
    assert state.recent == [1000.0 + 3 * DAY]


def test_out_of_order_event_keeps_latest_location() -> None:
    state = CustomerState()
    state.update(view(100.0, lat=5.0))
    state.update(view(50.0, lat=9.0))
    assert state.last_time == 100.0
    assert state.lat == 5.0
    assert state.recent == [50.0, 100.0]


def test_devices_are_bounded_most_recent_last() -> None:
    state = CustomerState()
    for device in [*range(MAX_DEVICES + 3), 4]:
        state.update(view(1.0, device=device))
    assert len(state.devices) == MAX_DEVICES
    assert state.devices[-1] == 4
    assert 0 not in state.devices


def test_bytes_round_trip_and_copy_is_independent() -> None:
    state = CustomerState()
    state.update(view(10.0, 50.0, device=7))
    state.update(view(20.0, 70.0, lat=math.nan))
    restored = CustomerState.from_bytes(state.to_bytes())
    assert restored.count == state.count
    assert restored.recent == state.recent
    assert restored.devices == state.devices
    assert restored.lat == state.lat
    clone = state.copy()
    clone.update(view(30.0))
    assert state.count == 2


@pytest.mark.parametrize("data", [b"", b"\x02" + b"\x00" * 100, CustomerState().to_bytes() + b"x"])
def test_bad_bytes_raise(data: bytes) -> None:
    with pytest.raises(StateFormatError):
        CustomerState.from_bytes(data)
