"""``streamflow.dlq``: a record some stage could not process, with why and where it came from."""

from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key

MAX_PAYLOAD_BYTES = 65_536
"""Raw payloads are kept up to this many bytes; longer ones are truncated and flagged."""


class Stage(StrEnum):
    """The stage that rejected the record."""

    GENERATOR = "generator"
    SCORER = "scorer"
    RULES = "rules"
    INGESTOR = "ingestor"
    API = "api"


class PayloadEncoding(StrEnum):
    """How ``payload`` holds the original bytes."""

    UTF8 = "utf-8"
    BASE64 = "base64"


class DeadLetterKey(Key):
    """Key of ``streamflow.dlq``: the source topic, so one topic's failures stay ordered."""

    source_topic: str = Field(min_length=1, max_length=255, description="Topic of the record.")


class DeadLetter(Contract):
    """The rejected record (bounded) and the reason."""

    stage: Stage = Field(description="Which stage rejected it.")
    source_topic: str = Field(min_length=1, max_length=255, description="Topic it was read from.")
    source_partition: int | None = Field(default=None, ge=0, description="Partition, if known.")
    source_offset: int | None = Field(default=None, ge=0, description="Offset, if known.")
    key: str | None = Field(default=None, max_length=1024, description="Record key, if any.")
    payload: str = Field(description="The raw value, bounded to 64 KiB before encoding.")
    payload_encoding: PayloadEncoding = Field(description="utf-8 text or base64 of the bytes.")
    payload_truncated: bool = Field(description="True if the payload was cut at 64 KiB.")
    error_type: str = Field(min_length=1, max_length=128, description="Machine-readable reason.")
    error_message: str = Field(max_length=4000, description="Human-readable reason.")
    failed_at: AwareDatetime = Field(description="When the stage rejected it.")

    def dlq_key(self) -> DeadLetterKey:
        """The Kafka key this record is produced with."""
        return DeadLetterKey(source_topic=self.source_topic)

    @classmethod
    def from_raw(
        cls,
        *,
        stage: Stage,
        source_topic: str,
        raw: bytes | None,
        error_type: str,
        error_message: str,
        failed_at: datetime,
        source_partition: int | None = None,
        source_offset: int | None = None,
        key: bytes | str | None = None,
    ) -> DeadLetter:
        """Build a dead letter from raw bytes, bounding and encoding the payload safely."""
        data = raw or b""
        truncated = len(data) > MAX_PAYLOAD_BYTES
        data = data[:MAX_PAYLOAD_BYTES]
        try:
            payload, encoding = data.decode("utf-8"), PayloadEncoding.UTF8
        except UnicodeDecodeError:
            payload, encoding = base64.b64encode(data).decode("ascii"), PayloadEncoding.BASE64
        key_text = key.decode("utf-8", errors="replace") if isinstance(key, bytes) else key
        return cls(
            stage=stage,
            source_topic=source_topic,
            source_partition=source_partition,
            source_offset=source_offset,
            key=key_text[:1024] if key_text is not None else None,
            payload=payload,
            payload_encoding=encoding,
            payload_truncated=truncated,
            error_type=error_type[:128] or "error",
            error_message=error_message[:4000],
            failed_at=failed_at,
        )

    def raw_bytes(self) -> bytes:
        """The original (possibly truncated) bytes."""
        if self.payload_encoding is PayloadEncoding.BASE64:
            return base64.b64decode(self.payload)
        return self.payload.encode("utf-8")
