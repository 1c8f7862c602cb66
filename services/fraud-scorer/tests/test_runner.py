"""Tests of the scorer's job runner: settings, checkpoint discovery, the launch command, the CLI."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from streamflow.events import policy
from streamflow.fraud_scorer.config import AlertDelivery, Settings
from streamflow.fraud_scorer.runner import cli
from streamflow.fraud_scorer.runner.checkpoints import latest_checkpoint, local_path
from streamflow.fraud_scorer.runner.launch import job_command, job_environment
from streamflow.platform.settings import SettingsError, load_settings


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STREAMFLOW_SCORER_CHECKPOINT_DIR", (tmp_path / "c").as_uri())
    monkeypatch.setenv("STREAMFLOW_SCORER_ALERT_DELIVERY", "exactly_once")
    monkeypatch.setenv("STREAMFLOW_TOPIC_FRAUD_ALERTS", "x.alerts")
    monkeypatch.delenv("STREAMFLOW_SCORER_METRICS_PORT", raising=False)
    settings = load_settings(Settings)
    assert settings.alert_delivery is AlertDelivery.EXACTLY_ONCE
    assert settings.metrics_port == 9102
    assert settings.topics.fraud_alerts == "x.alerts"
    assert settings.checkpoint_dir.startswith("file://")


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFLOW_SCORER_EXECUTION_MODE", "fibers")
    with pytest.raises(SettingsError, match="STREAMFLOW_SCORER_EXECUTION_MODE"):
        load_settings(Settings)


def test_latest_checkpoint_picks_newest_complete(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path.as_uri()) is None
    assert latest_checkpoint("s3://bucket/x") is None
    old = tmp_path / "job1" / "chk-7"
    new = tmp_path / "job2" / "chk-3"
    partial = tmp_path / "job2" / "chk-4"
    for d in (old, new, partial):
        d.mkdir(parents=True)
    (old / "_metadata").write_bytes(b"x")
    (new / "_metadata").write_bytes(b"x")
    os.utime(old / "_metadata", (1, 1))
    assert latest_checkpoint(tmp_path.as_uri()) == new
    assert local_path(str(tmp_path)) == tmp_path


def test_launch_command_and_environment(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    settings = Settings(flink_python=python)
    assert job_command(settings) == [str(python), "-m", "streamflow.fraud_scorer.fraud_job"]
    env = job_environment(settings, {"PATH": "/usr/bin"})
    assert env["PATH"].split(os.pathsep)[0] == str(python.parent)


def test_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFLOW_SCORER_CHECKPOINT_DIR", tmp_path.as_uri())
    assert cli.main(["latest-checkpoint"]) == 1
    (tmp_path / "j" / "chk-1").mkdir(parents=True)
    (tmp_path / "j" / "chk-1" / "_metadata").write_bytes(b"x")
    assert cli.main(["latest-checkpoint"]) == 0
    assert "chk-1" in capsys.readouterr().out
    assert cli.main(["settings"]) == 0
    assert "checkpoint_interval_ms" in capsys.readouterr().out
    monkeypatch.setenv("STREAMFLOW_SCORER_FLINK_PYTHON", str(tmp_path / "missing"))
    assert cli.main(["run"]) == 2
    monkeypatch.setenv("STREAMFLOW_SCORER_PARALLELISM", "0")
    assert cli.main(["settings"]) == 2


def test_the_job_scores_with_the_committed_model_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("STREAMFLOW_SCORER_MODEL_PATH", raising=False)
    default = Settings().model_path
    assert default is not None
    assert default.is_absolute()
    assert default.parts[-2:] == ("models", "anomaly-iforest.npz")
    assert default.is_file()
    monkeypatch.setenv("STREAMFLOW_SCORER_MODEL_PATH", str(tmp_path / "other.npz"))
    assert Settings().model_path == tmp_path / "other.npz"


def test_thread_mode_accepts_a_parallelism_above_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # PyFlink 2.2 runs two scoring instances in one thread-mode JVM correctly (ADR 0049's
    # correction: the restart loop seen earlier came from an experimental build of the job).
    monkeypatch.setenv("STREAMFLOW_SCORER_PARALLELISM", "2")
    settings = load_settings(Settings)
    assert (settings.parallelism, settings.execution_mode) == (2, "thread")


def test_the_skew_setting_defaults_to_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMFLOW_SCORER_MAX_FUTURE_SECONDS", raising=False)
    settings = Settings()
    assert timedelta(seconds=settings.max_future_seconds) == policy.MAX_FUTURE_SKEW
    assert settings.policy_override() is None
    monkeypatch.setenv("STREAMFLOW_SCORER_MAX_FUTURE_SECONDS", "3600")
    override = Settings().policy_override()
    assert override is not None
    assert "3600" in override
