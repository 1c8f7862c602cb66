"""The sinks' transaction timeout never exceeds what the broker accepts (docs/adr/0092)."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

from streamflow.fraud_scorer.connectors import transaction_timeout_ms
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.settings import KafkaSettings


def _broker_max(kafka: KafkaSettings) -> int:
    admin = AdminClient(kafka.client_config())
    broker = min(admin.list_topics(timeout=10).brokers)
    resource = ConfigResource("broker", str(broker))
    entries = admin.describe_configs([resource])[resource].result(timeout=10)
    return int(entries["transaction.max.timeout.ms"].value)


@pytest.mark.integration
def test_timeout_is_kept_when_allowed_and_lowered_to_the_brokers_maximum(
    kafka_settings: KafkaSettings,
) -> None:
    allowed = _broker_max(kafka_settings)
    assert transaction_timeout_ms(kafka_settings, 60_000) == min(60_000, allowed)
    assert transaction_timeout_ms(kafka_settings, allowed + 1) == allowed


def test_an_unreachable_broker_leaves_the_configured_timeout() -> None:
    nowhere = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_loopback_port()}")
    assert transaction_timeout_ms(nowhere, 3_600_000, timeout_s=1.0) == 3_600_000
