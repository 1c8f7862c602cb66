import json
from typing import Any

import numpy as np
import pytest

from streamflow.events import ContractError, Transaction, decode
from streamflow.generator.encoding import (
    MALFORMED_KINDS,
    IdTables,
    device_str,
    encode_batch,
    malformed,
    text_columns,
)


def test_fast_json_validates_strictly_against_the_contract(simulated: Any) -> None:
    ids = IdTables.build(simulated.ref, simulated.seed)
    batch = simulated.chunks[10]
    values, keys = encode_batch(batch, ids)
    assert len(values) == len(keys) == len(batch)
    text = text_columns(batch, ids)
    rng = np.random.default_rng(0)
    fraud = np.flatnonzero(batch.label == 1)
    picks = np.concatenate([rng.choice(len(batch), 300, replace=False), fraud[:50]])
    for i in picks:
        tx = decode(Transaction, values[i])
        assert tx.transaction_id == text.transaction_id[i]
        assert str(tx.amount) == text.amount[i]
        assert tx.currency == "BRL"
        assert tx.key().model_dump_json().encode() == keys[i]
        assert tx.device_id == text.device[i]
        assert int(tx.event_time.timestamp() * 1000) == batch.t[i]
        # the contract's own encoding carries the same data
        ours, theirs = json.loads(values[i]), json.loads(tx.model_dump_json())
        assert ours.pop("event_time")[:-1] == theirs.pop("event_time")[:23]
        assert ours == theirs


def test_no_label_travels_inside_a_transaction(simulated: Any) -> None:
    ids = IdTables.build(simulated.ref, simulated.seed)
    values, _ = encode_batch(simulated.chunks[15], ids)
    for value in values[:200]:
        assert set(json.loads(value)) == set(Transaction.model_fields)


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_malformed_payloads_fail_the_contract(simulated: Any, kind: str) -> None:
    ids = IdTables.build(simulated.ref, simulated.seed)
    values, _ = encode_batch(simulated.chunks[12], ids)
    with pytest.raises(ContractError):
        decode(Transaction, malformed(values[0], kind))


def test_unknown_malformed_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        malformed(b'{"transaction_id":"x","event_time":"y"}', "nope")


def test_device_strings() -> None:
    assert device_str(-1) is None
    assert device_str(4 * 12 + 1) == "D000012-2"
    assert device_str((1 << 40) + 7) == "X00000007"


def test_empty_batch_encodes_to_nothing(simulated: Any) -> None:
    ids = IdTables.build(simulated.ref, simulated.seed)
    assert encode_batch(simulated.batch.take(np.array([], dtype=np.int64)), ids) == ([], [])
