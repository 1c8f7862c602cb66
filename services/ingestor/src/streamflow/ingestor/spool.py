"""The last resort for a dead letter PostgreSQL refuses even in its minimal, sanitised form.

The writer appends such a record to a local JSON-lines file (``STREAMFLOW_INGESTOR_SPOOL_PATH``,
default ``<STREAMFLOW_LOCAL_DIR>/ingestor/dead-letters.jsonl``) and fsyncs it before the batch's
offsets may be committed, so the record is kept somewhere durable without stopping the topic.
Each line is one record: its Kafka coordinates, its key and value as base64 (the exact bytes),
the reason it was dead-lettered and why PostgreSQL refused it; the file is plain ASCII (JSON
escapes), so no byte of the record can break it. A crash between the append and the offset commit
spools the record again when the batch is re-read: a reader keys lines by their coordinates.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from streamflow.platform.settings import local_dir

Row = tuple[Any, ...]


def default_spool_path() -> Path:
    """``<STREAMFLOW_LOCAL_DIR>/ingestor/dead-letters.jsonl``."""
    return local_dir() / "ingestor" / "dead-letters.jsonl"


@dataclass(frozen=True, slots=True)
class Unstored:
    """A dead-letter row (``bronze.dead_letters`` column order) PostgreSQL would not take."""

    row: Row
    refusal: str

    @property
    def coordinates(self) -> tuple[str, int, int]:
        """``(topic, partition, offset)`` of the Kafka record."""
        return self.row[0], self.row[1], self.row[2]


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def spool_line(item: Unstored) -> str:
    """One JSON line (ASCII only) for an unstored dead letter."""
    topic, partition, offset, when, key, value, error_type, message = item.row
    record = {
        "kafka_topic": topic,
        "kafka_partition": partition,
        "kafka_offset": offset,
        "kafka_timestamp": when.isoformat() if isinstance(when, datetime) else None,
        "record_key_b64": _b64(key),
        "raw_value_b64": _b64(value),
        "error_type": error_type,
        "error_message": message,
        "refused_because": item.refusal,
    }
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))


class DeadLetterSpool:
    """An append-only, fsynced JSON-lines file of dead letters PostgreSQL refused."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, items: Sequence[Unstored]) -> None:
        """Append and fsync ``items``; raises ``OSError`` if they are not durably on disk."""
        if not items:
            return
        data = "".join(spool_line(item) + "\n" for item in items).encode("ascii")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:  # a new file is durable only once its directory entry is
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def read(self) -> Iterable[dict[str, Any]]:
        """Every spooled record, oldest first (nothing if the file does not exist)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="ascii") as lines:
            return [json.loads(line) for line in lines if line.strip()]
