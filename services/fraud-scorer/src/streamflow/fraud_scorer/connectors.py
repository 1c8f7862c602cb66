"""Kafka sources and keyed sinks of the scoring job (the shaded Kafka connector, Flink 2.2).

The transactions source is keyed by customer in the JVM (:func:`customer_keyed`, with the Java
deserializer of ``services/fraud-scorer/java``), so no Python runs before the scorer. Sources
read committed data only and start from the group's committed offsets (earliest when there are
none); on a restore Flink's checkpointed offsets win. Sinks take ``Row(key, value)``:
the key is written as the topic's JSON key (``{"customer_id":"C1"}``) by Flink's JSON row
serializer, which only looks at the first field, and the value as UTF-8 text.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]
from pyflink.common.serialization import SerializationSchema, SimpleStringSchema
from pyflink.common.typeinfo import Types
from pyflink.datastream import DataStream, KeyedStream, OutputTag
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.datastream.connectors.kafka import (
    KafkaOffsetResetStrategy,
    KafkaOffsetsInitializer,
    KafkaRecordSerializationSchema,
    KafkaSink,
    KafkaSource,
)
from pyflink.datastream.formats.json import JsonRowSerializationSchema
from pyflink.java_gateway import get_gateway

from streamflow.platform.settings import KafkaSettings

log = logging.getLogger(__name__)


def client_properties(kafka: KafkaSettings) -> dict[str, str]:
    """Java Kafka client properties equivalent to the librdkafka settings."""
    props: dict[str, str] = {"security.protocol": kafka.security_protocol}
    if kafka.ssl_ca_location:
        props["ssl.truststore.type"] = "PEM"
        props["ssl.truststore.location"] = kafka.ssl_ca_location
    if kafka.sasl_mechanism:
        secret = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
        module = (
            "org.apache.kafka.common.security.plain.PlainLoginModule"
            if kafka.sasl_mechanism == "PLAIN"
            else "org.apache.kafka.common.security.scram.ScramLoginModule"
        )
        props["sasl.mechanism"] = kafka.sasl_mechanism
        props["sasl.jaas.config"] = (
            f'{module} required username="{kafka.sasl_username or ""}" password="{secret}";'
        )
    return props


def kafka_source(
    kafka: KafkaSettings, topic: str, group_id: str, *, customer_keyed: bool = False
) -> Any:
    """A read_committed source over one topic: string values, or ``Row(customer_key, value)``.

    ``customer_keyed`` uses the Java ``CustomerKeyedRecords`` deserializer (``customer_id`` of
    the JSON value, ``""`` when unreadable); feed the stream to :func:`customer_keyed`.
    """
    builder = (
        KafkaSource.builder()
        .set_bootstrap_servers(kafka.bootstrap_servers)
        .set_topics(topic)
        .set_group_id(group_id)
        .set_client_id_prefix(f"{group_id}-{topic}")
        .set_starting_offsets(
            KafkaOffsetsInitializer.committed_offsets(KafkaOffsetResetStrategy.EARLIEST)
        )
        .set_property("isolation.level", "read_committed")
        .set_property("partition.discovery.interval.ms", "60000")
    )
    if customer_keyed:
        keyed = get_gateway().jvm.io.streamflow.flink.CustomerKeyedRecords()
        builder._j_builder.setDeserializer(keyed)
    else:
        builder = builder.set_value_only_deserializer(SimpleStringSchema())
    for key, value in client_properties(kafka).items():
        builder = builder.set_property(key, value)
    return builder.build()


KEYED_RECORD_TYPE = Types.ROW([Types.STRING(), Types.STRING()])
"""What a customer-keyed source emits: ``Row(customer_key, value)``."""


def customer_keyed(records: DataStream) -> KeyedStream:
    """Key a customer-keyed source's ``Row(key, value)`` stream by its key, in the JVM.

    The same shape PyFlink's ``key_by`` builds with a Python operator (``Row(key, value)`` keyed
    by Flink's ``KeyByKeySelector`` on field 0); keyed functions downstream see the value only.
    """
    jvm = get_gateway().jvm
    j_keyed = records._j_data_stream.keyBy(
        jvm.KeyByKeySelector(), Types.ROW([Types.STRING()]).get_java_type_info()
    )
    return KeyedStream(j_keyed, Types.STRING(), records)


def with_merchant_traffic(records: DataStream, ttl_days: int, held_merchants: int) -> DataStream:
    """Prefix every ``Row(customer_key, value)`` value with its merchant's traffic, in the JVM.

    Java ``MerchantFields``, chained to the source, reads the record's ``merchant_id`` and the
    UTC day of its ``event_time`` in one pass; keyed by that merchant, the ``MerchantTraffic``
    operator keeps the merchant's payments per UTC day (the ``held_merchants`` most recently
    active in memory in front of Flink's state, docs/adr/0128) and emits ``Row(customer_key,
    "c1,c7,c30" + SEPARATOR + value)``: the payments in the 1, 7 and 30 whole days before the
    record's day (docs/adr/0058); :func:`streamflow.fraud_scorer.records.split_traffic` takes the
    value apart again. No Python runs in this hop.
    """
    flink = get_gateway().jvm.io.streamflow.flink
    j_stream = (
        records._j_data_stream.map(flink.MerchantFields(), flink.MerchantFields.TYPE)
        .name("merchant-fields")
        .uid("merchant-fields")
        .keyBy(flink.MerchantKey(), Types.STRING().get_java_type_info())
        .transform(
            "merchant-traffic",
            KEYED_RECORD_TYPE.get_java_type_info(),
            flink.MerchantTraffic(ttl_days, held_merchants),
        )
        .uid("merchant-traffic")
    )
    return DataStream(j_stream)


def side_output(stream: DataStream, tag: OutputTag) -> DataStream:
    """The records ``stream``'s operator emits to ``tag``, straight from the JVM.

    PyFlink's ``get_side_output`` adds an identity Python ``map`` after the side output: a
    second Java<->Python hand-off per record (the window feed has one per transaction). The
    JVM's side output already carries the tag's typed rows, so they reach their sinks and the
    SQL windows without Python (docs/adr/0048).
    """
    return DataStream(stream._j_data_stream.getSideOutput(tag.get_java_output_tag()))


def _value_column_schema() -> SerializationSchema:
    """Serialises field 1 of a Row (the value) as UTF-8 text."""
    jvm = get_gateway().jvm
    wrapper = jvm.org.apache.flink.python.util.PythonConnectorUtils.SecondColumnSerializationSchema
    return SerializationSchema(wrapper(SimpleStringSchema()._j_serialization_schema))


def transaction_timeout_ms(kafka: KafkaSettings, wanted_ms: int, timeout_s: float = 10.0) -> int:
    """``wanted_ms``, or the broker's lower ``transaction.max.timeout.ms`` with a warning.

    The broker refuses a producer whose transaction timeout exceeds its maximum (InitProducerId
    fails and the job cannot start). The shipped broker configs allow the scorer's timeout (tests
    check it, docs/adr/0092); a broker started with an older config (one started before the
    change, read-only setting until it restarts) still runs, covering only shorter outages.
    When the broker cannot be asked (unreachable, no DescribeConfigs right), ``wanted_ms``.
    """
    try:
        admin = AdminClient(kafka.client_config())
        brokers = admin.list_topics(timeout=timeout_s).brokers
        if not brokers:
            return wanted_ms
        resource = ConfigResource("broker", str(min(brokers)))
        entries = admin.describe_configs([resource])[resource].result(timeout=timeout_s)
        allowed = int(entries["transaction.max.timeout.ms"].value)
    except (KafkaException, KeyError, TypeError, ValueError) as exc:
        log.info("broker transaction.max.timeout.ms unknown (%s); using %d ms", exc, wanted_ms)
        return wanted_ms
    if allowed >= wanted_ms:
        return wanted_ms
    log.warning(
        "broker allows transaction.max.timeout.ms=%d < the scorer's %d ms: using %d ms, so a "
        "scorer outage longer than that loses data; restart the broker with the current "
        "config (scripts/infra/kafka.sh, docs/adr/0092)",
        allowed,
        wanted_ms,
        allowed,
    )
    return allowed


LINGER_MS = 5
"""The at-least-once sinks' ``linger.ms``: batches wait at most this long for more records."""
TRANSACTIONAL_LINGER_MS = 100
TRANSACTIONAL_BATCH_BYTES = 262_144
"""The exactly-once sinks' ``linger.ms`` and ``batch.size``: their records become readable only
when the checkpoint commits (the writer flushes before it), so they are sent in larger, fewer
batches: fewer produce requests and sender wake-ups per record (docs/adr/0048)."""
REQUEST_TIMEOUT_MS = 30_000
"""The sinks' ``request.timeout.ms`` (Kafka's default): one request's wait for its reply."""


def outage_properties(outage_ms: int) -> dict[str, str]:
    """Producer settings under which a sink waits out a broker outage of up to ``outage_ms``.

    With Kafka's defaults a send fails after 60 s without the topic's metadata (``max.block.ms``)
    and a queued batch after 120 s (``delivery.timeout.ms``). The writer keeps that error and
    throws it again from ``close()`` while Flink cleans the failed task up, and Flink 2.2 treats
    an exception there as a fatal TaskManager error: the MiniCluster's only TaskManager is gone
    and the job restarts forever with no slots (docs/adr/0110). Waiting up to the transaction
    timeout loses nothing: the broker aborts a transaction older than that anyway (ADR 0092).
    ``delivery.timeout.ms`` must be at least ``linger.ms + request.timeout.ms``.
    """
    wait_ms = max(outage_ms, TRANSACTIONAL_LINGER_MS + REQUEST_TIMEOUT_MS)
    return {
        "max.block.ms": str(wait_ms),
        "delivery.timeout.ms": str(wait_ms),
        "request.timeout.ms": str(REQUEST_TIMEOUT_MS),
    }


def keyed_sink(  # noqa: PLR0917
    kafka: KafkaSettings,
    topic: str,
    key_field: str,
    guarantee: DeliveryGuarantee,
    transactional_id_prefix: str,
    transaction_timeout_ms: int,
) -> Any:
    """A sink of ``Row(key, value)`` records to ``topic``.

    Any guarantee waits out a broker outage of up to ``transaction_timeout_ms``
    (:func:`outage_properties`); exactly-once also uses it as the transaction timeout.
    """
    key_schema = (
        JsonRowSerializationSchema.builder()
        .with_type_info(Types.ROW_NAMED([key_field], [Types.STRING()]))
        .build()
    )
    serializer = (
        KafkaRecordSerializationSchema.builder()
        .set_topic(topic)
        .set_key_serialization_schema(key_schema)
        .set_value_serialization_schema(_value_column_schema())
        .build()
    )
    builder = (
        KafkaSink.builder()
        .set_bootstrap_servers(kafka.bootstrap_servers)
        .set_record_serializer(serializer)
        .set_delivery_guarantee(guarantee)
        .set_property("compression.type", "lz4")
    )
    exactly_once = guarantee == DeliveryGuarantee.EXACTLY_ONCE
    linger_ms = TRANSACTIONAL_LINGER_MS if exactly_once else LINGER_MS
    builder = builder.set_property("linger.ms", str(linger_ms))
    if exactly_once:
        builder = builder.set_property("batch.size", str(TRANSACTIONAL_BATCH_BYTES))
    for key, value in outage_properties(transaction_timeout_ms).items():
        builder = builder.set_property(key, value)
    if exactly_once:
        builder = builder.set_transactional_id_prefix(transactional_id_prefix).set_property(
            "transaction.timeout.ms", str(transaction_timeout_ms)
        )
    for key, value in client_properties(kafka).items():
        builder = builder.set_property(key, value)
    return builder.build()
