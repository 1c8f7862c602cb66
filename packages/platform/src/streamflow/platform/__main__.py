"""``python -m streamflow.platform``: bootstrap (topics + migrations), migrate, topics, wait."""

from __future__ import annotations

import argparse
import sys

from streamflow.platform.kafka import ensure_topics
from streamflow.platform.migrations import create_database, migrate
from streamflow.platform.readiness import NotReadyError, wait_for_kafka, wait_for_postgres
from streamflow.platform.settings import ServiceSettings, SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    """Run one platform command; print what it did; non-zero exit with a message on failure."""
    parser = argparse.ArgumentParser(prog="python -m streamflow.platform", description=__doc__)
    parser.add_argument("command", choices=["bootstrap", "migrate", "topics", "wait"])
    parser.add_argument("--timeout", type=float, default=60.0, help="readiness deadline, seconds")
    parser.add_argument(
        "--create-database",
        action="store_true",
        help="create STREAMFLOW_PG_DATABASE first if it does not exist (needs CREATEDB)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(ServiceSettings)
        if args.command in ("bootstrap", "wait", "topics"):
            wait_for_kafka(settings.kafka, args.timeout)
        if args.create_database:
            wait_for_postgres(settings.pg.model_copy(update={"database": "postgres"}), args.timeout)
            made = create_database(settings.pg)
            print(f"database {settings.pg.database}: {'created' if made else 'exists'}")
        if args.command in ("bootstrap", "wait", "migrate"):
            wait_for_postgres(settings.pg, args.timeout)
        if args.command in ("bootstrap", "topics"):
            created = ensure_topics(settings.kafka, settings.topics)
            print(f"topics: {len(created)} created ({', '.join(created) or 'all existed'})")
        if args.command in ("bootstrap", "migrate"):
            applied = migrate(settings.pg.dsn())
            names = ", ".join(f"V{m.version:03d}__{m.name}" for m in applied)
            print(f"migrations: {len(applied)} applied ({names or 'up to date'})")
    except (SettingsError, NotReadyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
