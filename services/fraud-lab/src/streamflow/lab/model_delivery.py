"""Deliver registered models to the running job over ``fraud.models``, and read what it holds.

``publish`` produces a release (see :mod:`streamflow.scoring.model_release`) and waits for the
broker's acknowledgement; ``from_registry`` builds one from a registered version, checking the
file against the SHA-256 recorded at registration; ``slots`` reads the compacted topic back: the
latest release per (model name, slot), i.e. what a job starting now would load.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from streamflow.events import ModelRelease, ModelSlot, decode, encode, encode_key
from streamflow.events.topics import MODEL_TOPIC_MAX_BYTES
from streamflow.lab.registry import MODEL_FILE, MlflowRegistry, ModelVersion
from streamflow.platform.kafka import produce_one, read_to_end
from streamflow.platform.settings import KafkaSettings
from streamflow.scoring.gbdt import model_from_bytes
from streamflow.scoring.model import ModelFormatError
from streamflow.scoring.model_release import release_of


class DeliveryError(RuntimeError):
    """A release could not be built or acknowledged."""


def from_registry(
    registry: MlflowRegistry, name: str, version: ModelVersion, slot: ModelSlot, note: str = ""
) -> ModelRelease:
    """The release of a registered version for ``slot``; refuses a file that fails its checks."""
    blob = registry.get_artifact(f"{version.source.rstrip('/')}/{MODEL_FILE}")
    expected = version.tags.get("sha256")
    if expected and hashlib.sha256(blob).hexdigest() != expected:
        raise DeliveryError(f"{name} v{version.version}: file does not match its recorded sha256")
    try:
        model = model_from_bytes(blob, f"{name} v{version.version}")
    except ModelFormatError as exc:
        raise DeliveryError(str(exc)) from None
    return release_of(
        model,
        model_name=name,
        slot=slot,
        published_at=datetime.now(UTC),
        registry_version=version.version,
        note=note or None,
    )


def publish(kafka: KafkaSettings, topic: str, release: ModelRelease) -> None:
    """Produce one release and wait for the broker's acknowledgement."""
    try:
        produce_one(
            kafka,
            "streamflow-model-delivery",
            topic,
            encode_key(release.key()),
            encode(release),
            **{"message.max.bytes": MODEL_TOPIC_MAX_BYTES},
        )
    except RuntimeError as exc:
        raise DeliveryError(f"publishing model {release.version} failed: {exc}") from None


def slots(kafka: KafkaSettings, topic: str, timeout_s: float = 10.0) -> dict[str, ModelRelease]:
    """The latest valid release per ``"<model name>/<slot>"`` on the topic."""
    found: dict[str, ModelRelease] = {}
    for value in read_to_end(kafka, topic, "streamflow-model-delivery", timeout_s):
        try:
            release = decode(ModelRelease, value)
        except ValueError:
            continue  # the job dead-letters it; it is in force nowhere
        found[f"{release.model_name}/{release.slot.value}"] = release
    return found


def in_force(
    held: dict[str, ModelRelease], model_name: str
) -> dict[ModelSlot, ModelRelease | None]:
    """What a job reading ``held`` (see :func:`slots`) ends with in each slot.

    The job drops its shadow when a release to the current slot carries the shadow's version (a
    promotion), so a shadow release published before a current release of the same version is
    no longer in force, though it is still the shadow slot's latest record on the topic.
    """
    current = held.get(f"{model_name}/{ModelSlot.CURRENT.value}")
    shadow = held.get(f"{model_name}/{ModelSlot.SHADOW.value}")
    if (
        current is not None
        and shadow is not None
        and shadow.version == current.version
        and shadow.published_at <= current.published_at
    ):
        shadow = None
    return {ModelSlot.CURRENT: current, ModelSlot.SHADOW: shadow}
