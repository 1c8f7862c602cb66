"""Integration: replays (topic range, dead letters) are idempotent; bad settings are named."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from ingestor_helpers import produce, scalar, transaction_bytes  # type: ignore[import-not-found]

from streamflow.events import Topic
from streamflow.ingestor.cli import main
from streamflow.ingestor.config import Settings
from streamflow.ingestor.replay import ReplayError, replay_dead_letters, replay_topic
from streamflow.platform.settings import KafkaSettings, PostgresSettings, TopicSettings

pytestmark = pytest.mark.integration


async def test_replay_topic_range_is_idempotent(
    service_env: dict[str, str],
    kafka_settings: KafkaSettings,
    topics: TopicSettings,
    pg_settings: PostgresSettings,
) -> None:
    raw = topics.name(Topic.TRANSACTIONS_RAW)
    produce(kafka_settings, raw, [transaction_bytes(i) for i in range(300)] + [(b"k", b"nope")])
    settings = Settings()
    first = await replay_topic(settings, "transactions.raw", from_offset=0)
    assert (first.read, first.inserted, first.dead_letters) == (301, 300, 1)
    again = await replay_topic(settings, raw, from_offset=0)
    assert (again.inserted, again.duplicates) == (0, 301)
    assert scalar(pg_settings, "select count(*) from bronze.transactions") == 300
    one = await replay_topic(settings, raw, from_offset=0, to_offset=4, partition=0)
    assert one.read == 5
    assert one.inserted == 0
    timed = await replay_topic(settings, raw, from_time=datetime.now(tz=UTC) + timedelta(hours=1))
    assert timed.read == 0
    with pytest.raises(ReplayError):
        await replay_topic(settings, "no.such.topic", from_offset=0)
    with pytest.raises(ReplayError):
        await replay_topic(settings, raw, from_offset=0, from_time=datetime.now(tz=UTC))
    with pytest.raises(ReplayError):
        await replay_topic(settings, raw, from_offset=0, partition=99)


async def test_replay_dead_letters_lands_what_now_passes(
    service_env: dict[str, str], pg_settings: PostgresSettings
) -> None:
    _, good = transaction_bytes(7)
    raw = service_env["STREAMFLOW_TOPIC_TRANSACTIONS_RAW"]
    with psycopg.connect(pg_settings.dsn()) as conn:
        # One record a since-fixed bug rejected (it is valid now), one still broken.
        conn.execute(
            "insert into bronze.dead_letters (kafka_topic, kafka_partition, kafka_offset, "
            "raw_value, error_type, error_message) values (%s, 0, 5, %s, 'bug', 'x'), "
            "(%s, 0, 6, %s, 'invalid_json', 'x'), ('some.other.topic', 0, 1, %s, 'x', 'x')",
            (raw, good, raw, b"{broken", good),
        )
    settings = Settings()
    dry = await replay_dead_letters(
        settings, datetime.now(tz=UTC) - timedelta(hours=1), dry_run=True
    )
    assert dry.inserted == 1
    assert scalar(pg_settings, "select count(*) from bronze.transactions") == 0
    summary = await replay_dead_letters(settings, datetime.now(tz=UTC) - timedelta(hours=1))
    assert (summary.read, summary.inserted, summary.dead_letters) == (2, 1, 1)
    assert scalar(pg_settings, "select count(*) from bronze.transactions") == 1
    assert (
        scalar(
            pg_settings, "select count(*) from bronze.dead_letters where reprocessed_at is not null"
        )
        == 1
    )
    # Replaying again does nothing new.
    again = await replay_dead_letters(settings, datetime.now(tz=UTC) - timedelta(hours=1))
    assert again.inserted == 0


def test_cli_replay_prints_a_summary(
    service_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "dead-letters", "--since", "1h"]) == 0
    assert json.loads(capsys.readouterr().out)["read"] == 0
    assert main(["replay", "topic", "bogus", "--from-offset", "0"]) == 2


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("STREAMFLOW_PG_PASSWORD", "wrong", "STREAMFLOW_PG_PASSWORD"),
        ("STREAMFLOW_PG_DATABASE", "no_such_db", "STREAMFLOW_PG_DATABASE"),
        ("STREAMFLOW_PG_PORT", "notaport", "STREAMFLOW_PG_PORT"),
    ],
)
def test_broken_database_settings_stop_startup_naming_the_setting(
    pg_admin_settings: PostgresSettings, var: str, value: str, named: str
) -> None:
    import os

    env = {**os.environ, var: value, "STREAMFLOW_INGESTOR_METRICS_PORT": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "streamflow.ingestor", "run"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert named in proc.stderr.decode()
