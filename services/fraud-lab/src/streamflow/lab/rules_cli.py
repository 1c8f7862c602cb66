"""``make rules``: show, diff and publish rule sets on the compacted ``fraud.rules`` topic.

    show            print the rule set in force (latest on the topic, else the built-in defaults)
    diff FILE       what publishing FILE would change
    publish FILE    validate FILE exactly as the scorer will, then produce it (key: rule_set_id)

FILE is YAML or JSON with RuleSet fields; ``created_at`` defaults to now. The scorer ignores a
version that is not newer than the one in force, so publish refuses it up front.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from streamflow.events import RuleSet, Topic, encode, encode_key
from streamflow.platform.kafka import produce_one, read_to_end
from streamflow.platform.settings import KafkaSettings, ServiceSettings, load_settings
from streamflow.scoring.rules_io import read_rules, rules_diff, rules_to_yaml
from streamflow.scoring.rulesets import RuleUpdateRejected, apply_rule_update, default_rules


def latest_rules(
    kafka: KafkaSettings, topic: str, rule_set_id: str, timeout_s: float = 10.0
) -> RuleSet | None:
    """The newest valid rule set for ``rule_set_id`` on the topic, or None."""
    current: RuleSet | None = None
    for value in read_to_end(kafka, topic, "streamflow-rules-cli", timeout_s):
        try:
            candidate = apply_rule_update(value, current)
        except RuleUpdateRejected:
            continue
        if candidate.rule_set_id == rule_set_id:
            current = candidate
    return current


def publish(kafka: KafkaSettings, topic: str, rules: RuleSet) -> None:
    """Produce one rule set and wait for the broker's acknowledgement."""
    produce_one(kafka, "streamflow-rules-cli", topic, encode_key(rules.key()), encode(rules))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make rules", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("show", "diff", "publish"))
    parser.add_argument("file", nargs="?", type=Path, help="rule-set YAML/JSON (diff, publish)")
    parser.add_argument("--rule-set-id", default="default")
    parser.add_argument("--offline", action="store_true", help="compare with the defaults only")
    args = parser.parse_args(argv)
    if args.command != "show" and args.file is None:
        parser.error(f"{args.command} needs a FILE")
    settings = load_settings(ServiceSettings)
    topic = settings.topics.name(Topic.FRAUD_RULES)
    current = None if args.offline else latest_rules(settings.kafka, topic, args.rule_set_id)
    in_force = current or default_rules()
    source = f"topic {topic}" if current else "built-in defaults"
    if args.command == "show":
        print(f"# rule set in force ({source})")
        print(rules_to_yaml(in_force), end="")
        return 0
    try:
        candidate = read_rules(args.file)
    except ValueError as exc:
        print(f"invalid rule set {args.file}: {exc}", file=sys.stderr)
        return 1
    changes = rules_diff(in_force, candidate)
    print(f"# {args.file} vs {source} (version {in_force.version})")
    print("\n".join(changes) if changes else "(no changes)")
    if args.command == "diff":
        return 0
    try:
        apply_rule_update(encode(candidate), current or None)
        if current is None and candidate.version <= in_force.version:
            raise RuleUpdateRejected(
                "rule_set_not_newer", f"version must be above the defaults' {in_force.version}"
            )
    except RuleUpdateRejected as exc:
        print(f"refused: {exc.reason}", file=sys.stderr)
        return 1
    publish(settings.kafka, topic, candidate)
    print(f"published rule set {candidate.rule_set_id} version {candidate.version} to {topic}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
