"""What a job reading the model topic ends with in each slot (the job's promotion rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streamflow.events import ModelRelease, ModelSlot
from streamflow.lab.model_delivery import in_force
from streamflow.scoring.gbdt import stump
from streamflow.scoring.model_release import release_of

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _release(version: str, slot: ModelSlot, minutes: int) -> ModelRelease:
    return release_of(
        stump(version, "log_amount", 7.0),
        model_name="m",
        slot=slot,
        published_at=T0 + timedelta(minutes=minutes),
    )


def test_a_promoted_shadow_is_no_longer_in_force() -> None:
    shadow, current = _release("v2", ModelSlot.SHADOW, 0), _release("v2", ModelSlot.CURRENT, 1)
    held = in_force({"m/shadow": shadow, "m/current": current}, "m")
    assert held == {ModelSlot.CURRENT: current, ModelSlot.SHADOW: None}


def test_a_newer_or_other_shadow_stays() -> None:
    current = _release("v1", ModelSlot.CURRENT, 0)
    other = _release("v2", ModelSlot.SHADOW, 1)
    assert in_force({"m/shadow": other, "m/current": current}, "m")[ModelSlot.SHADOW] == other
    again = _release("v1", ModelSlot.SHADOW, 2)  # the same version shadowed again, later
    assert in_force({"m/shadow": again, "m/current": current}, "m")[ModelSlot.SHADOW] == again
    assert in_force({}, "m") == {ModelSlot.CURRENT: None, ModelSlot.SHADOW: None}
