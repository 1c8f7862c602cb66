"""``fraud.models``: a supervised model version delivered to the running scorer.

A compacted control topic keyed by (model name, slot): compaction keeps the latest release of the
``shadow`` slot and of the ``current`` slot, so a restarted or new job reads both. The model file
travels in the record itself (base64 of the ``.npz`` bytes, with its SHA-256 and size): the job
needs no shared filesystem or registry access, and a replay scores with exactly the bytes that were
published (docs/adr/0062).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key
from streamflow.events.types import Identifier, Text

MAX_MODEL_FILE_BYTES = 2 * 1024 * 1024
"""The largest model file a release may carry (the topic allows 4 MiB records; base64 is 4/3)."""
MAX_MODEL_BASE64_CHARS = 4 * ((MAX_MODEL_FILE_BYTES + 2) // 3)


class ModelSlot(StrEnum):
    """Where a released version goes in the job."""

    SHADOW = "shadow"
    """Scored on every transaction next to the current model; never alerts."""
    CURRENT = "current"
    """Scores and alerts (a promotion)."""


class ModelReleaseKey(Key):
    """Key of ``fraud.models``: one slot of one model name."""

    model_name: Identifier = Field(
        description="Registered model name, e.g. 'streamflow-fraud-gbdt'."
    )
    slot: ModelSlot = Field(description="shadow or current.")


class ModelRelease(Contract):
    """One model version for one slot of the running scorer."""

    model_name: Identifier = Field(description="Registered model name.")
    version: Text = Field(min_length=1, max_length=64, description="The model's version string.")
    slot: ModelSlot = Field(description="shadow (scored, never alerts) or current (alerts).")
    kind: Text = Field(
        default="gbdt", min_length=1, max_length=32, description="Model family; 'gbdt' today."
    )
    sha256: Text = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the model file's bytes (hex)."
    )
    size_bytes: int = Field(ge=1, le=MAX_MODEL_FILE_BYTES, description="The file's size.")
    model_base64: Text = Field(
        min_length=4,
        max_length=MAX_MODEL_BASE64_CHARS,
        description="The model file (.npz) as base64.",
    )
    registry_version: Text | None = Field(
        default=None, max_length=64, description="The registry's version number, if registered."
    )
    published_at: AwareDatetime = Field(description="When it was published.")
    note: Text | None = Field(default=None, max_length=2000, description="Why, in words.")

    def key(self) -> ModelReleaseKey:
        """The Kafka key: compaction keeps the latest release per (model name, slot)."""
        return ModelReleaseKey(model_name=self.model_name, slot=self.slot)
