"""Rule sets at run time: defaults, blacklist files and validation of ``fraud.rules`` updates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from streamflow.events import BlacklistRule, ContractError, RuleSet, decode

DEFAULT_RULES_VERSION = 1
"""Version of the built-in defaults; a published rule set must be newer (2 and up)."""

DEFAULT_CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""Fixed so the defaults (and every alert id derived from them) are reproducible."""


class RuleUpdateRejected(ValueError):  # noqa: N818 - the contract's name
    """A ``fraud.rules`` record the scorer refuses; the previous rules stay in force."""

    def __init__(self, error_type: str, reason: str) -> None:
        self.error_type = error_type
        self.reason = reason
        super().__init__(f"{error_type}: {reason}")


def load_blacklist(path: Path) -> BlacklistRule:
    """A blacklist from a JSON file ``{"customer_ids": [...], "card_ids": [...], ...}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a blacklist file holds a JSON object")
    return BlacklistRule.model_validate(
        {key: frozenset(value) for key, value in data.items() if isinstance(value, list)}
        | {key: value for key, value in data.items() if not isinstance(value, list)},
        strict=False,
    )


def default_rules(blacklist_file: Path | None = None) -> RuleSet:
    """The built-in rule set (the design's thresholds), optionally with a blacklist file."""
    rules = RuleSet(version=DEFAULT_RULES_VERSION, created_at=DEFAULT_CREATED_AT)
    if blacklist_file is not None:
        rules = rules.model_copy(update={"blacklist": load_blacklist(blacklist_file)})
    return rules


def apply_rule_update(raw: bytes, current: RuleSet | None) -> RuleSet:
    """The rule set a ``fraud.rules`` record asks for, or :class:`RuleUpdateRejected`.

    A record must decode, belong to the current rule set id and carry a newer version. The same
    version with identical content is accepted as a no-op (a compacted topic re-delivers the
    latest record after every restart); the same version with other content is rejected.
    """
    try:
        update = decode(RuleSet, raw)
    except ContractError as exc:
        raise RuleUpdateRejected("invalid_rule_set", str(exc)) from None
    if current is None:
        return update
    if update.rule_set_id != current.rule_set_id:
        raise RuleUpdateRejected(
            "rule_set_id_mismatch",
            f"rule set {update.rule_set_id!r} is not the followed {current.rule_set_id!r}",
        )
    if update.version == current.version and update == current:
        return current
    if update.version <= current.version:
        raise RuleUpdateRejected(
            "rule_set_not_newer",
            f"version {update.version} is not newer than the current {current.version}",
        )
    return update
