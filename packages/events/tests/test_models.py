from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from streamflow.events import (
    AnalystVerdict,
    DeadLetter,
    Label,
    PayloadEncoding,
    RuleSet,
    Severity,
    Stage,
    alert_id_for,
)
from streamflow.events.dead_letters import MAX_PAYLOAD_BYTES
from streamflow.events.rules import BlacklistRule, HighValueRule, MerchantRiskConfig, MlConfig

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_alert_id_is_deterministic_per_transaction_and_rules_version() -> None:
    assert alert_id_for("tx-1", 1) == alert_id_for("tx-1", 1)
    assert alert_id_for("tx-1", 1) != alert_id_for("tx-1", 2)
    assert alert_id_for("tx-1", 1) != alert_id_for("tx-2", 1)
    assert len(alert_id_for("tx-1", 1)) == 36


@pytest.mark.parametrize(
    ("score", "severity"),
    [(0.95, Severity.CRITICAL), (0.8, Severity.HIGH), (0.65, Severity.MEDIUM), (0.5, Severity.LOW)],
)
def test_severity_bands(score: float, severity: Severity) -> None:
    assert Severity.from_score(score) is severity


def test_label_vocabularies_map_onto_each_other() -> None:
    assert Label.from_binary(1) is Label.FRAUD
    assert Label.from_binary(0) is Label.LEGIT
    assert Label.FRAUD.to_binary() == 1
    assert Label.LEGIT.to_binary() == 0
    assert AnalystVerdict.CONFIRMED_FRAUD.label() is Label.FRAUD
    assert AnalystVerdict.FALSE_POSITIVE.label() is Label.LEGIT
    with pytest.raises(ValueError, match="0 or 1"):
        Label.from_binary(2)


def _dead_letter(raw: bytes, key: bytes | str | None = None) -> DeadLetter:
    return DeadLetter.from_raw(
        stage=Stage.INGESTOR,
        source_topic="transactions.raw",
        raw=raw,
        key=key,
        error_type="json_invalid",
        error_message="bad",
        failed_at=NOW,
    )


def test_dead_letter_keeps_text_payloads_as_text() -> None:
    letter = _dead_letter(b'{"a": 1', key=b"k")
    assert letter.payload_encoding is PayloadEncoding.UTF8
    assert letter.raw_bytes() == b'{"a": 1'
    assert letter.key == "k"
    assert not letter.payload_truncated


def test_dead_letter_base64_encodes_binary_payloads() -> None:
    letter = _dead_letter(b"\xff\xfe\x00", key="text-key")
    assert letter.payload_encoding is PayloadEncoding.BASE64
    assert base64.b64decode(letter.payload) == b"\xff\xfe\x00"
    assert letter.raw_bytes() == b"\xff\xfe\x00"


def test_dead_letter_bounds_huge_payloads() -> None:
    letter = _dead_letter(b"x" * (MAX_PAYLOAD_BYTES + 10))
    assert letter.payload_truncated
    assert len(letter.raw_bytes()) == MAX_PAYLOAD_BYTES
    assert _dead_letter(b"").payload == ""


def test_rule_set_defaults_are_the_design_thresholds() -> None:
    rules = RuleSet(version=1, created_at=NOW)
    assert rules.high_value.multiplier == 3.0
    assert rules.high_value.min_history == 5
    assert rules.velocity.max_count == 5
    assert rules.velocity.window_seconds == 600
    assert rules.impossible_travel.max_distance_km == 500.0
    assert rules.time_of_day.z_threshold == 2.0


def test_rule_set_needs_something_enabled() -> None:
    off: dict[str, Any] = {"enabled": False}
    with pytest.raises(ValueError, match="at least one rule"):
        RuleSet(
            version=2,
            created_at=NOW,
            high_value=HighValueRule(**off),
            velocity={"enabled": False},  # type: ignore[arg-type]
            impossible_travel={"enabled": False},  # type: ignore[arg-type]
            time_of_day={"enabled": False},  # type: ignore[arg-type]
            blacklist=BlacklistRule(**off),
            ml=MlConfig(**off),
            merchant_risk=MerchantRiskConfig(**off),
        )


def test_rule_set_rejects_bad_thresholds() -> None:
    with pytest.raises(ValueError, match="multiplier"):
        RuleSet(version=1, created_at=NOW, high_value=HighValueRule(multiplier=0.5))
