"""Rule-set files and diffs (the rules CLI's offline parts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamflow.events import ContractError
from streamflow.lab.rules_cli import main
from streamflow.scoring.rules_io import read_rules, rules_diff, rules_to_yaml
from streamflow.scoring.rulesets import default_rules


def test_yaml_round_trip_and_diff(tmp_path: Path) -> None:
    base = default_rules()
    path = tmp_path / "r.yaml"
    path.write_text(rules_to_yaml(base))
    assert read_rules(path) == base
    path.write_text(
        "version: 3\nhigh_value:\n  multiplier: 4.0\nblacklist:\n  card_ids: [K1, K2]\n"
    )
    changed = read_rules(path)
    lines = rules_diff(base, changed)
    assert "high_value.multiplier: 3.0 -> 4.0" in lines
    assert "version: 1 -> 3" in lines
    assert "blacklist.card_ids: + ['K1', 'K2']" in lines
    assert "blacklist.card_ids: - ['K1', 'K2']" in rules_diff(changed, base)


def test_invalid_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 2\nalert_threshold: 3\n")
    with pytest.raises(ContractError, match="alert_threshold"):
        read_rules(path)
    path.write_text("- just a list\n")
    with pytest.raises(ContractError):
        read_rules(path)


def test_offline_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "--offline"]) == 0
    assert "alert_threshold: 0.5" in capsys.readouterr().out
    path = tmp_path / "r.yaml"
    path.write_text("version: 2\nalert_threshold: 0.6\n")
    assert main(["diff", str(path), "--offline"]) == 0
    assert "alert_threshold: 0.5 -> 0.6" in capsys.readouterr().out
    path.write_text("version: 2\nalert_threshold: 9\n")
    assert main(["diff", str(path), "--offline"]) == 1
