"""``make rules publish`` against the real broker: publish, read back, refuse stale versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamflow.events import Topic
from streamflow.lab.rules_cli import latest_rules, main
from streamflow.platform.settings import KafkaSettings, TopicSettings

pytestmark = pytest.mark.integration


def test_publish_show_and_refuse_stale(
    service_env: dict[str, str],
    topics: TopicSettings,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = topics.name(Topic.FRAUD_RULES)
    assert latest_rules(kafka_settings, topic, "default", timeout_s=5) is None
    path = tmp_path / "r.yaml"
    path.write_text("version: 2\nalert_threshold: 0.65\nvelocity:\n  max_count: 8\n")
    assert main(["publish", str(path)]) == 0
    assert "published rule set default version 2" in capsys.readouterr().out
    current = latest_rules(kafka_settings, topic, "default")
    assert current is not None
    assert current.version == 2
    assert current.velocity.max_count == 8
    assert main(["show"]) == 0
    assert "max_count: 8" in capsys.readouterr().out
    path.write_text("version: 2\nalert_threshold: 0.7\n")
    assert main(["publish", str(path)]) == 1
    assert "not newer" in capsys.readouterr().err
