"""What every fast path's tests check: it accepts only what its contract accepts, same columns."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from streamflow.events import ContractError, decode
from streamflow.ingestor.copy_text import encode_rows
from streamflow.ingestor.records import PlainRecord, parse_records
from streamflow.ingestor.tables import TableSpec


@dataclass(frozen=True)
class FastPathCase:
    """A topic's spec (with its fast path) and a valid record of it as a dict."""

    spec: TableSpec
    base: dict[str, Any]

    def payload(self, change: dict[str, Any], drop: tuple[str, ...] = ()) -> bytes:
        """The base record with ``change`` applied and ``drop`` left out, as compact JSON."""
        doc = {k: v for k, v in {**self.base, **change}.items() if k not in drop}
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()

    def contract_columns(self, value: bytes) -> tuple[Any, ...] | None:
        """The typed columns through the contract, None if it refuses the record."""
        try:
            return self.spec.extract(decode(self.spec.model, value))
        except ContractError:
            return None

    def fast_columns(self, value: bytes) -> tuple[Any, ...] | None:
        """The typed columns through the fast path, None if it refuses the record."""
        fast = self.spec.fast
        assert fast is not None
        try:
            return fast.extract(fast.check(value))
        except fast.errors:
            return None

    def assert_parse_records_alike(self, values: list[bytes]) -> None:
        """``parse_records`` with and without the fast path: same rows, dead letters, offsets."""
        slow_spec = dataclasses.replace(self.spec, fast=None)
        records = [PlainRecord("t", 0, i, 1_700_000_000_000, b"k", v) for i, v in enumerate(values)]
        fast = parse_records(self.spec, records, 1 << 20)
        slow = parse_records(slow_spec, records, 1 << 20)
        assert fast.dead == slow.dead
        assert fast.keys == slow.keys
        assert fast.next_offsets == slow.next_offsets
        assert encode_rows(fast.rows) == encode_rows(slow.rows)
        assert fast.text() == slow.text() == encode_rows(fast.rows)  # the parser's own lines
        assert len(fast.rows) > 10
        assert len(fast.dead) > 10
