"""The Java side of the job's sources: the customer key the JVM computes for raw records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from streamflow.fraud_scorer.environment import FlinkEnvironmentSettings, build_environment
from streamflow.platform.settings import local_dir

SETTINGS = FlinkEnvironmentSettings.local(local_dir())
CASES = [
    '{"customer_id":"C7","amount":"10.00"}',
    '{"x":[1,{"customer_id":"nested"}],"customer_id":"C8"}',
    '{"customer_id":"A","customer_id":"B"}',
    '{"customer_id":"C\\u00e9"}',
    '{"customer_id": 5}',
    '{"customer_id": null}',
    '{"amount": "1"}',
    "{oops",
    "[1, 2]",
    '"C7"',
    '{"a":1} trailing',
    '{"customer_id":"C1",}',
    "",
    "   ",
]


def reference_key(raw: str) -> str:
    """What the key must be: the top-level ``customer_id`` string, else ``""``."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ""
    key = body.get("customer_id") if isinstance(body, dict) else None
    return key if isinstance(key, str) else ""


@pytest.fixture(scope="module")
def keyed_records(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not all(jar.is_file() for jar in SETTINGS.jars()):
        pytest.skip("Flink jars not built (make setup)")
    work: Path = tmp_path_factory.mktemp("connectors")
    build_environment(
        FlinkEnvironmentSettings(
            connector_jar=SETTINGS.connector_jar,
            java_jar=SETTINGS.java_jar,
            checkpoint_dir=work / "checkpoints",
            log_dir=work / "logs",
        )
    )
    from pyflink.java_gateway import get_gateway

    return get_gateway().jvm.io.streamflow.flink.CustomerKeyedRecords()


@pytest.mark.flink
@pytest.mark.parametrize("raw", CASES)
def test_java_customer_key_matches_the_reference(keyed_records: Any, raw: str) -> None:
    assert keyed_records.customerKey(raw) == reference_key(raw)


@pytest.mark.flink
def test_java_source_emits_key_and_value_strings(keyed_records: Any) -> None:
    assert str(keyed_records.getProducedType()) == "Row(f0: String, f1: String)"
