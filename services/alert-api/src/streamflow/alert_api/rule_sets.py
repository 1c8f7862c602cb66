"""Rule sets for the rule what-if and publishing: the one in force, drafts, the draft's schema.

- The rule set in force is the newest valid record of ``fraud.rules`` for the rule set the scorer
  follows (``default``), read to the topic's end exactly as the job applies them
  (:func:`~streamflow.scoring.rulesets.apply_rule_update`), else the built-in defaults.
- A draft is a request body: a ``RuleSet`` without ``created_at`` (the API stamps it), decoded
  with the contract's strict codec, so an invalid one is a 422 naming the field path.
- Its OpenAPI schema is the contract's validation schema plus what the contract checks in code:
  at least one rule enabled with a positive weight (``anyOf``), the accepted ``schema_version``s.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from streamflow.alert_api.config import Settings
from streamflow.alert_api.problems import FieldProblem, ProblemError
from streamflow.events import ContractError, RuleSet, Topic, decode, encode, encode_key
from streamflow.events import rules as rule_contracts
from streamflow.events.base import Contract
from streamflow.platform.kafka import produce_one, read_to_end
from streamflow.scoring.rulesets import RuleUpdateRejected, apply_rule_update, default_rules

FOLLOWED = "default"
"""The rule set id the scorer follows."""
DRAFT = "RuleSetDraft"
"""The draft's schema name in the OpenAPI document (its parts: ``RuleSetDraft_<Model>``)."""
STAMPED = "created_at"
MAX_VERSION = 2**31 - 1
"""The highest version: scored records and alerts carry it in PostgreSQL integer columns."""
_PARTS = (
    "high_value",
    "velocity",
    "impossible_travel",
    "time_of_day",
    "blacklist",
    "ml",
    "merchant_risk",
)

DRAFT_EXAMPLE: dict[str, Any] = {
    "rule_set_id": FOLLOWED,
    "version": 2,
    "alert_threshold": 0.45,
    "velocity": {"enabled": True, "weight": 0.85, "max_count": 3, "window_seconds": 600},
    "blacklist": {
        "enabled": True,
        "weight": 1.0,
        "customer_ids": ["C-BLOCKED-1"],
        "card_ids": [],
        "merchant_ids": [],
    },
}


class RulesUnavailableError(RuntimeError):
    """``fraud.rules`` could not be read or written."""


def _in_force(settings: Settings) -> tuple[RuleSet | None, str]:
    topic = settings.topics.name(Topic.FRAUD_RULES)
    current: RuleSet | None = None
    try:
        records = list(
            read_to_end(
                settings.kafka, topic, f"{settings.client_id}-rules", settings.rules_read_timeout_s
            )
        )
    except Exception as exc:  # a broker outage: the caller answers 503
        raise RulesUnavailableError(f"{topic} could not be read: {exc}") from exc
    for raw in records:
        try:
            candidate = apply_rule_update(raw, current)
        except RuleUpdateRejected:
            continue  # the job skips it too
        if candidate.rule_set_id == FOLLOWED:
            current = candidate
    return current, topic


async def rules_in_force(settings: Settings) -> tuple[RuleSet, bool, str]:
    """(the rule set in force, whether it came from the topic, the topic's name)."""
    current, topic = await asyncio.to_thread(_in_force, settings)
    return (current or default_rules()), current is not None, topic


def parse_draft(body: bytes, now: datetime | None = None) -> RuleSet:
    """The rule set of a draft body, or a 422 :class:`ProblemError` naming the fields."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ProblemError(422, "the body is not JSON", field="body") from None
    if not isinstance(data, dict):
        raise ProblemError(422, "the body must be a JSON object (a rule set)", field="body")
    if STAMPED in data:
        raise ProblemError(
            422, "created_at is set by the API when it publishes", field=f"body.{STAMPED}"
        )
    data[STAMPED] = (now or datetime.now(UTC)).isoformat()
    try:
        rules = decode(RuleSet, json.dumps(_integral(data)))
    except ContractError as exc:
        errors = [
            FieldProblem(field=f"body.{e.path}" if e.path else "body", message=e.message)
            for e in exc.errors
        ]
        raise ProblemError(
            422,
            "invalid rule set: " + "; ".join(f"{e.field}: {e.message}" for e in errors),
            field=errors[0].field if errors else "body",
            errors=errors,
        ) from None
    if rules.version > MAX_VERSION:
        raise ProblemError(422, f"version must be <= {MAX_VERSION}", field="body.version")
    return rules


def _integral(value: Any) -> Any:
    """JSON numbers with an integral value as integers: JSON Schema's ``integer`` admits 3.0,
    the contract's strict codec does not (and a ``number`` field takes 3 as well as 3.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


def _accepted_versions(schema: dict[str, Any], model: type[Contract]) -> None:
    """A ``schema_version`` property admits only the versions the contract accepts."""
    prop = schema.get("properties", {}).get("schema_version")
    if prop is not None:
        prop.pop("minimum", None)
        prop["enum"] = sorted(model.accepted_versions() | {model.SCHEMA_VERSION})


def check_publishable(candidate: RuleSet, current: RuleSet, from_topic: bool) -> None:
    """A 409 unless the scorer would apply ``candidate`` over ``current``."""
    if candidate.rule_set_id != FOLLOWED:
        raise ProblemError(
            409,
            f"the scorer follows rule set {FOLLOWED!r}, not {candidate.rule_set_id!r}",
            field="body.rule_set_id",
        )
    if candidate.version <= current.version:
        source = "in force" if from_topic else "of the built-in defaults"
        raise ProblemError(
            409,
            f"version {candidate.version} is not newer than the version {current.version} {source}",
            field="body.version",
        )
    try:
        apply_rule_update(encode(candidate), current if from_topic else None)
    except RuleUpdateRejected as exc:  # pragma: no cover - the checks above are the job's
        raise ProblemError(409, exc.reason, field="body") from None


async def publish(settings: Settings, rules: RuleSet) -> str:
    """Produce ``rules`` to ``fraud.rules`` and wait for the broker; returns the topic."""
    topic = settings.topics.name(Topic.FRAUD_RULES)
    try:
        await asyncio.to_thread(
            produce_one,
            settings.kafka,
            f"{settings.client_id}-rules",
            topic,
            encode_key(rules.key()),
            encode(rules),
            settings.kafka_delivery_timeout_s,
        )
    except Exception as exc:
        raise RulesUnavailableError(f"publishing to {topic} failed: {exc}") from exc
    return topic


def declare_draft_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add ``RuleSetDraft`` (and its parts) to the document's components."""
    schema = RuleSet.model_json_schema(
        mode="validation", ref_template="#/components/schemas/" + DRAFT + "_{model}"
    )
    parts: dict[str, Any] = schema.pop("$defs", {})
    properties = schema["properties"]
    properties.pop(STAMPED, None)
    schema["required"] = [name for name in schema.get("required", []) if name != STAMPED]
    _accepted_versions(schema, RuleSet)
    properties["version"]["maximum"] = MAX_VERSION
    # The contract's own check, in the schema: some rule enabled with a positive weight. A rule
    # left out keeps its default (enabled, positive weight), so it satisfies its branch.
    schema["anyOf"] = [
        {
            "properties": {
                name: {
                    "properties": {
                        "enabled": {"const": True},
                        "weight": {"exclusiveMinimum": 0},
                    }
                }
            }
        }
        for name in _PARTS
    ]
    schema["description"] = (
        "A rule set as `fraud.rules` carries it, without `created_at` (set by the API). "
        "Omitted rules and fields take their defaults."
    )
    schema["examples"] = [DRAFT_EXAMPLE]
    for name, part in parts.items():
        # every rule is a contract with its own schema_version
        _accepted_versions(part, getattr(rule_contracts, name, RuleSet))
        for prop in part.get("properties", {}).values():
            # a repeated id counts once: the API accepts duplicates, so the schema admits them
            prop.pop("uniqueItems", None)
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components[DRAFT] = schema
    for name, part in parts.items():
        components[f"{DRAFT}_{name}"] = part
    return openapi


def draft_body(description: str) -> dict[str, Any]:
    """An operation's ``openapi_extra``: a required JSON ``RuleSetDraft`` body."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{DRAFT}"},
                    "examples": {"lower-velocity": {"value": DRAFT_EXAMPLE}},
                }
            },
        }
    }
