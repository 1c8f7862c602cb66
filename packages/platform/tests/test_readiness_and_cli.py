from __future__ import annotations

import pytest

from streamflow.platform.__main__ import main
from streamflow.platform.ports import free_loopback_port
from streamflow.platform.readiness import NotReadyError, wait_for_kafka, wait_for_postgres
from streamflow.platform.settings import KafkaSettings, PostgresSettings


def test_kafka_not_ready_names_the_setting() -> None:
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_loopback_port()}")
    with pytest.raises(NotReadyError, match="STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS"):
        wait_for_kafka(kafka, timeout_s=1.5)


def test_postgres_not_ready_names_the_settings() -> None:
    pg = PostgresSettings(port=free_loopback_port())
    with pytest.raises(NotReadyError, match="STREAMFLOW_PG_"):
        wait_for_postgres(pg, timeout_s=1.5)


def test_cli_reports_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFLOW_PG_PORT", "not-a-port")
    assert main(["migrate"]) == 1
    assert "STREAMFLOW_PG_PORT" in capsys.readouterr().err


def test_cli_reports_unreachable_postgres(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFLOW_PG_PORT", str(free_loopback_port()))
    assert main(["migrate", "--timeout", "1"]) == 1
    assert "not ready" in capsys.readouterr().err
