"""Rule-set files (YAML or JSON) for the rules CLI and the backtest's ``--rules``/``--compare``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from streamflow.events import ContractError, RuleSet, decode


def rules_from_mapping(data: dict[str, Any], now: datetime | None = None) -> RuleSet:
    """Validate a rule-set mapping; ``created_at`` defaults to ``now``."""
    payload = dict(data)
    payload.setdefault("created_at", (now or datetime.now(UTC)).isoformat())
    return decode(RuleSet, json.dumps(payload, default=str))


def read_rules(path: Path, now: datetime | None = None) -> RuleSet:
    """A rule set from a YAML/JSON file; raises ContractError naming the bad field."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ContractError("RuleSet", [])
    return rules_from_mapping(data, now)


def rules_to_yaml(rules: RuleSet) -> str:
    """A readable YAML form of a rule set (blacklists as sorted lists)."""
    data = json.loads(rules.model_dump_json())
    for key in ("customer_ids", "card_ids", "merchant_ids"):
        data["blacklist"][key] = sorted(data["blacklist"][key])
    return yaml.safe_dump(data, sort_keys=False)


def rules_diff(old: RuleSet, new: RuleSet) -> list[str]:
    """Lines ``path: old -> new`` for every setting that differs."""
    return _diff(json.loads(old.model_dump_json()), json.loads(new.model_dump_json()), "")


def _diff(old: Any, new: Any, prefix: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new)):
            lines += _diff(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key)
        return lines
    if isinstance(old, list) and isinstance(new, list):
        added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
        return ([f"{prefix}: + {added}"] if added else []) + (
            [f"{prefix}: - {removed}"] if removed else []
        )
    return [] if old == new else [f"{prefix}: {old!r} -> {new!r}"]
