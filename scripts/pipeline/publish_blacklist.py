"""Publish a new rule-set version carrying a generator run's blacklist (demo runs).

Reads the ``--blacklist-out`` JSON the generator wrote, takes the rule set in force on
``fraud.rules`` (or the built-in defaults), replaces its blacklist with this run's, bumps the
version and publishes it: the running scorer applies it without a restart. Replace, not merge:
every demo run simulates a new world whose ids reuse the previous one's, so an old world's
blacklisted merchant is an ordinary merchant now.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from streamflow.events import BlacklistRule, Topic
from streamflow.lab.rules_cli import latest_rules, publish
from streamflow.platform.settings import ServiceSettings, load_settings
from streamflow.scoring.rulesets import default_rules


def main(argv: list[str]) -> int:
    """``publish_blacklist.py BLACKLIST_JSON``."""
    if len(argv) != 1:
        print("usage: publish_blacklist.py BLACKLIST_JSON", file=sys.stderr)
        return 2
    extra = BlacklistRule.model_validate_json(Path(argv[0]).read_text(encoding="utf-8"))
    settings = load_settings(ServiceSettings)
    topic = settings.topics.name(Topic.FRAUD_RULES)
    current = latest_rules(settings.kafka, topic, "default") or default_rules()
    blacklist = current.blacklist.model_copy(
        update={
            "customer_ids": extra.customer_ids,
            "card_ids": extra.card_ids,
            "merchant_ids": extra.merchant_ids,
        }
    )
    if blacklist == current.blacklist:
        print(f"rules v{current.version} already hold this blacklist")
        return 0
    new = current.model_copy(
        update={
            "version": current.version + 1,
            "created_at": datetime.now(UTC),
            "blacklist": blacklist,
        }
    )
    publish(settings.kafka, topic, new)
    print(
        f"published rules v{new.version}: {len(blacklist.card_ids)} cards, "
        f"{len(blacklist.merchant_ids)} merchants, "
        f"{len(blacklist.customer_ids)} customers blacklisted"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
