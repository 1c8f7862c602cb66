"""Drop the topics and the database of one finished fault run (scripts/pipeline/fault_run.sh).

The names come from the run's environment (``STREAMFLOW_TOPIC_*``, ``STREAMFLOW_PG_DATABASE``).
Refuses to touch the default topic names or the default database, so a run whose environment was
not set up can never drop the shared development data.
"""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql

from streamflow.platform.kafka import delete_topics
from streamflow.platform.settings import (
    PostgresSettings,
    ServiceSettings,
    TopicSettings,
    load_settings,
)


def main() -> int:
    """Drop them; exit 2 if the environment still names the shared defaults."""
    settings = load_settings(ServiceSettings)
    names = list(settings.topics.as_map().values())
    # The field defaults, not TopicSettings(): that would read the very env vars being checked.
    shared = {field.default for field in TopicSettings.model_fields.values()}
    database = settings.pg.database
    if shared & set(names) or database == PostgresSettings.model_fields["database"].default:
        print("refusing: the environment names the shared topics or database", file=sys.stderr)
        return 2
    delete_topics(settings.kafka, names)
    with psycopg.connect(settings.pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
        )
    print(f"dropped {len(names)} topics and database {database}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
