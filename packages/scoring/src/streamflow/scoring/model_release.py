"""Model releases on ``fraud.models``: build one from a model, and check one before the job uses it.

A release carries the model file itself (base64, SHA-256, size; docs/adr/0062). The job refuses a
release whose bytes do not match its checksum or size, whose kind it does not know, whose file does
not load, or whose features are not the ones the scorer computes; it dead-letters the release with
the reason and keeps scoring with the versions it had.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

from streamflow.events import ModelRelease, ModelSlot, decode
from streamflow.scoring.gbdt import GbdtModel, model_from_bytes
from streamflow.scoring.model import ModelFormatError
from streamflow.scoring.supervised_features import SUPERVISED_FEATURE_NAMES

MODEL_KIND = "gbdt"
"""The one model family the job loads from releases."""

BAD_ENCODING = "model_bad_encoding"
SIZE_MISMATCH = "model_size_mismatch"
CHECKSUM_MISMATCH = "model_checksum_mismatch"
UNSUPPORTED_KIND = "model_unsupported_kind"
VERSION_MISMATCH = "model_version_mismatch"
INCOMPATIBLE_FEATURES = "model_incompatible_features"
UNREADABLE = "model_unreadable"


class ModelRejected(Exception):  # noqa: N818 - reads as what happened
    """A release the job must not use; ``error_type`` and ``reason`` go to the dead letter."""

    def __init__(self, error_type: str, reason: str) -> None:
        super().__init__(reason)
        self.error_type = error_type
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LoadedRelease:
    """A checked release and its model, ready to score."""

    release: ModelRelease
    model: GbdtModel


def release_of(
    model: GbdtModel,
    *,
    model_name: str,
    slot: ModelSlot,
    published_at: datetime,
    registry_version: str | None = None,
    note: str | None = None,
) -> ModelRelease:
    """The release that delivers ``model`` to ``slot`` of the running job."""
    data = model.to_bytes()
    return ModelRelease(
        model_name=model_name,
        version=model.version,
        slot=slot,
        kind=MODEL_KIND,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        model_base64=base64.b64encode(data).decode("ascii"),
        registry_version=registry_version,
        published_at=published_at,
        note=note,
    )


def check_release(release: ModelRelease) -> LoadedRelease:
    """Verify a decoded release and load its model; raises :class:`ModelRejected` with why."""
    if release.kind != MODEL_KIND:
        raise ModelRejected(
            UNSUPPORTED_KIND, f"model kind {release.kind!r} is not supported (only {MODEL_KIND!r})"
        )
    try:
        data = base64.b64decode(release.model_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ModelRejected(BAD_ENCODING, f"model_base64 is not base64: {exc}") from None
    if len(data) != release.size_bytes:
        raise ModelRejected(
            SIZE_MISMATCH, f"model file is {len(data)} bytes, the release says {release.size_bytes}"
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != release.sha256:
        raise ModelRejected(
            CHECKSUM_MISMATCH,
            f"model file's SHA-256 is {digest}, the release says {release.sha256}",
        )
    source = f"model {release.version}"
    try:
        model = model_from_bytes(data, source)
    except ModelFormatError as exc:
        error = INCOMPATIBLE_FEATURES if "other features" in str(exc) else UNREADABLE
        detail = str(exc)
        if error == INCOMPATIBLE_FEATURES:
            detail += f" (the scorer computes {len(SUPERVISED_FEATURE_NAMES)} features)"
        raise ModelRejected(error, detail) from None
    if model.version != release.version:
        raise ModelRejected(
            VERSION_MISMATCH,
            f"model file is version {model.version!r}, the release says {release.version!r}",
        )
    return LoadedRelease(release, model)


def load_release(raw: bytes | str) -> LoadedRelease:
    """Decode a ``fraud.models`` value and check it (ContractError or ModelRejected on failure)."""
    return check_release(decode(ModelRelease, raw))
