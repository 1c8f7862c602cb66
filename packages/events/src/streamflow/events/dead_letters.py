"""``streamflow.dlq``: a record some stage could not process, with why and where it came from.

A dead letter must never fail in turn: :meth:`DeadLetter.from_raw` keeps the payload's bytes
exactly (UTF-8 text, or base64 when they are not UTF-8 or hold U+0000) and passes every other
text field through :func:`streamflow.events.text.storable_text`, so whatever the rejected record
held, the dead letter encodes, publishes and lands in bronze.
"""

from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field

from streamflow.events.base import Contract, Key
from streamflow.events.text import storable_text
from streamflow.events.types import Text

MAX_PAYLOAD_BYTES = 65_536
"""Raw payloads are kept up to this many bytes; longer ones are truncated and flagged."""
MAX_KEY_CHARS = 1024
MAX_ERROR_TYPE_CHARS = 128
MAX_ERROR_MESSAGE_CHARS = 4000
MAX_TOPIC_CHARS = 255


class Stage(StrEnum):
    """The stage that rejected the record."""

    GENERATOR = "generator"
    SCORER = "scorer"
    RULES = "rules"
    MODELS = "models"
    INGESTOR = "ingestor"
    API = "api"


class PayloadEncoding(StrEnum):
    """How ``payload`` holds the original bytes."""

    UTF8 = "utf-8"
    BASE64 = "base64"


class DeadLetterKey(Key):
    """Key of ``streamflow.dlq``: the source topic, so one topic's failures stay ordered."""

    source_topic: Text = Field(
        min_length=1, max_length=MAX_TOPIC_CHARS, description="Topic of the record."
    )


class DeadLetter(Contract):
    """The rejected record (bounded) and the reason."""

    stage: Stage = Field(description="Which stage rejected it.")
    source_topic: Text = Field(
        min_length=1, max_length=MAX_TOPIC_CHARS, description="Topic it was read from."
    )
    source_partition: int | None = Field(default=None, ge=0, description="Partition, if known.")
    source_offset: int | None = Field(default=None, ge=0, description="Offset, if known.")
    key: Text | None = Field(
        default=None, max_length=MAX_KEY_CHARS, description="Record key, if any."
    )
    payload: Text = Field(description="The raw value, bounded to 64 KiB before encoding.")
    payload_encoding: PayloadEncoding = Field(description="utf-8 text or base64 of the bytes.")
    payload_truncated: bool = Field(description="True if the payload was cut at 64 KiB.")
    error_type: Text = Field(
        min_length=1, max_length=MAX_ERROR_TYPE_CHARS, description="Machine-readable reason."
    )
    error_message: Text = Field(
        max_length=MAX_ERROR_MESSAGE_CHARS, description="Human-readable reason."
    )
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
        """Build a dead letter from raw bytes; it cannot fail whatever they and the reason hold.

        The payload keeps the (bounded) bytes exactly; the key, the reason and the topic are made
        storable (U+0000 escaped visibly, lone surrogates replaced) and bounded.
        """
        data = raw or b""
        truncated = len(data) > MAX_PAYLOAD_BYTES
        data = data[:MAX_PAYLOAD_BYTES]
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\x00" not in text:
            payload, encoding = text, PayloadEncoding.UTF8
        else:  # not UTF-8, or text PostgreSQL cannot store: the exact bytes as base64
            payload, encoding = base64.b64encode(data).decode("ascii"), PayloadEncoding.BASE64
        key_text = key.decode("utf-8", errors="replace") if isinstance(key, bytes) else key
        return cls(
            stage=stage,
            source_topic=storable_text(source_topic, MAX_TOPIC_CHARS) or "unknown",
            source_partition=source_partition,
            source_offset=source_offset,
            key=storable_text(key_text, MAX_KEY_CHARS) if key_text is not None else None,
            payload=payload,
            payload_encoding=encoding,
            payload_truncated=truncated,
            error_type=storable_text(error_type, MAX_ERROR_TYPE_CHARS) or "error",
            error_message=storable_text(error_message, MAX_ERROR_MESSAGE_CHARS),
            failed_at=failed_at,
        )

    def raw_bytes(self) -> bytes:
        """The original (possibly truncated) bytes."""
        if self.payload_encoding is PayloadEncoding.BASE64:
            return base64.b64decode(self.payload)
        return self.payload.encode("utf-8")
