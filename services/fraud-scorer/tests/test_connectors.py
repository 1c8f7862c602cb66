"""The Java side of the job's sources: the customer key, the merchant key, the event day and the
merchant's day buckets the JVM computes for raw records, against their Python references."""

from __future__ import annotations

import math
import random
from typing import Any

import orjson
import pytest

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


def reference_key(raw: str, field: str = "customer_id") -> str:
    """What the key must be: the top-level ``field`` string, else ``""``."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ""
    key = body.get(field) if isinstance(body, dict) else None
    return key if isinstance(key, str) else ""


@pytest.fixture(scope="module")
def keyed_records(flink_classes: Any) -> Any:
    return flink_classes.CustomerKeyedRecords()


@pytest.mark.flink
@pytest.mark.parametrize("raw", CASES)
def test_java_customer_key_matches_the_reference(keyed_records: Any, raw: str) -> None:
    assert keyed_records.customerKey(raw) == reference_key(raw)


@pytest.mark.flink
def test_java_source_emits_key_and_value_strings(keyed_records: Any) -> None:
    assert str(keyed_records.getProducedType()) == "Row(f0: String, f1: String)"


TIMES = [
    "2026-10-01T23:59:59.999999+00:00",
    "2026-10-01T21:30:00-03:00",
    "2026-10-02T00:00:00Z",
    "2026-10-01 12:00:00+00:00",
    "1969-12-31T23:00:00+00:00",
    "2026-10-01T12:00:00",
    "yesterday",
]


def reference_day(when: str) -> int | None:
    """The UTC day the contract gives ``event_time`` (None when it refuses the value)."""
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat(when)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # the contract needs an aware time
    return math.floor(parsed.timestamp() / 86_400)


def merchant_fields(flink_classes: Any, value: str) -> list[Any]:
    """``MerchantFields.map`` of ``Row("C1", value)``: its four fields."""
    from pyflink.java_gateway import get_gateway

    record = get_gateway().jvm.org.apache.flink.types.Row.withPositions(2)
    record.setField(0, "C1")
    record.setField(1, value)
    out = flink_classes.MerchantFields().map(record)
    return [out.getField(i) for i in range(4)]


@pytest.mark.flink
@pytest.mark.parametrize("raw", CASES)
def test_java_merchant_key_matches_the_reference(flink_classes: Any, raw: str) -> None:
    raw = raw.replace("customer_id", "merchant_id")
    assert merchant_fields(flink_classes, raw)[2] == reference_key(raw, "merchant_id")


@pytest.mark.flink
@pytest.mark.parametrize("when", TIMES)
def test_java_event_day_matches_the_contract(flink_classes: Any, when: str) -> None:
    raw = orjson.dumps({"merchant_id": "M1", "event_time": when}).decode()
    day = merchant_fields(flink_classes, raw)[3]
    expected = reference_day(when)
    assert day == (expected if expected is not None else -(2**63))


def _spellings(rng: random.Random) -> list[str]:
    """Times in and around the spelling MerchantFields reads by hand, some of them invalid."""
    out = []
    for _ in range(4_000):
        year = rng.choice([1969, 1970, 2000, 2024, 2025, 2026, 2100, 9999])
        month, day = rng.randint(0, 13), rng.randint(0, 32)
        hour, minute, second = rng.randint(0, 25), rng.randint(0, 61), rng.randint(0, 61)
        text = f"{year:04d}-{month:02d}-{day:02d}{rng.choice('TT t')}{hour:02d}:{minute:02d}"
        if rng.random() < 0.9:
            text += f":{second:02d}"
        if rng.random() < 0.5:
            text += "." + "7" * rng.randint(0, 10)
        sign = rng.choice("+-")
        text += rng.choice(
            [
                "Z",
                "z",
                "",
                f"{sign}{rng.randint(0, 19):02d}:{rng.randint(0, 60):02d}",
                "+0100",
                "-00:00",
                "+01:00:30",
                f"{sign}05:30",
            ]
        )
        if rng.random() < 0.05:
            cut = rng.randrange(len(text))
            text = text[:cut] + rng.choice(["", "x", " ", "1"]) + text[cut + 1 :]
        out.append(text)
    return out


@pytest.mark.flink
def test_java_hand_read_event_day_equals_the_parsed_one(flink_classes: Any) -> None:
    """The hand-written reader of the common spelling gives OffsetDateTime.parse's day on
    whatever it accepts, and every other spelling falls through to it."""
    fields = flink_classes.MerchantFields
    texts = _spellings(random.Random(11))
    texts += [
        "2024-02-29T12:00:00+00:00",
        "2025-02-29T12:00:00+00:00",
        "2026-12-31T23:30:00-01:00",
        "2026-01-01T00:30:00+01:00",
        "1970-01-01T00:00:00.000000001Z",
        "2026-10-01T24:00:00+00:00",
        "2026-10-01T12:00:00+18:00",
    ]
    common = 0
    for text in texts:
        assert fields.eventDay(text) == fields.parsedDay(text), text
        common += fields.commonDay(text) != -(2**63)
    assert common > 400  # the hand-read path was taken often enough to mean something


@pytest.mark.flink
def test_java_merchant_fields_row(flink_classes: Any) -> None:
    """One pass gives the merchant key and the event day; a malformed value gives neither."""
    good = '{"merchant_id":"M7","event_time":"2026-10-02T00:30:00+01:00","x":[1]}'
    assert merchant_fields(flink_classes, good) == ["C1", good, "M7", 20_727]
    assert merchant_fields(flink_classes, '{"merchant_id":"M7",')[2:] == ["", -(2**63)]
    assert (
        str(flink_classes.MerchantFields.TYPE)
        == "Row(f0: String, f1: String, f2: String, f3: Long)"
    )


@pytest.mark.flink
def test_java_day_buckets_equal_the_python_ones(flink_classes: Any) -> None:
    """The JVM operator's buckets and the lab's MerchantTraffic agree on a shuffled stream."""
    from streamflow.scoring.context import MerchantTraffic

    rng = random.Random(5)
    state = flink_classes.MerchantTraffic.empty()
    mirror = MerchantTraffic()
    for _ in range(3_000):
        day = 20_000 + rng.randrange(45) if rng.random() < 0.97 else 20_000 - rng.randrange(40)
        text = flink_classes.MerchantTraffic.before(state, day)
        assert tuple(int(x) for x in text.split(",")) == mirror.before(day * 86_400.0 + 1.0)
        flink_classes.MerchantTraffic.add(state, day)
        mirror.add(day * 86_400.0 + 7.0)


@pytest.mark.flink
def test_the_job_jvm_runs_with_the_projects_log_configuration(keyed_records: Any) -> None:
    """The gateway JVM read log4j-job.properties: the Kafka admin client's metadata manager, which
    logged ~18,000 lines a second during a broker outage, is at WARN there."""
    from pyflink.java_gateway import get_gateway

    log_manager = get_gateway().jvm.org.apache.logging.log4j.LogManager
    shaded = "org.apache.flink.kafka.shaded.org.apache.kafka.clients"
    name = f"{shaded}.admin.internals.AdminMetadataManager"
    assert str(log_manager.getLogger(name).getLevel()) == "WARN"
