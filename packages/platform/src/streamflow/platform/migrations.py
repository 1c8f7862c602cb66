"""A small versioned migration runner: ``V<NNN>__<name>.sql`` files applied once, in order.

Each file runs in its own transaction under an advisory lock and is recorded with its checksum in
``public.streamflow_migrations``; re-running is a no-op, and an applied file whose content changed
is refused rather than silently skipped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql

from streamflow.platform.settings import PostgresSettings

_NAME = re.compile(r"^V(?P<version>\d{3,})__(?P<name>[a-z0-9_]+)\.sql$")
_LOCK_ID = 5_410_001  # arbitrary, constant: serialises concurrent migrators
_DDL = """
create table if not exists public.streamflow_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


class MigrationError(RuntimeError):
    """A migration file is malformed, duplicated, or was edited after being applied."""


def packaged_migrations() -> list[Migration]:
    """The migrations shipped inside this package."""
    folder = resources.files("streamflow.platform") / "migrations"
    return load_migrations(Path(str(folder)))


def load_migrations(folder: Path) -> list[Migration]:
    """Read and order every ``V<NNN>__<name>.sql`` file of a folder."""
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: expected V<NNN>__<name>.sql")
        version = int(match["version"])
        if version in found:
            raise MigrationError(f"{path.name}: version {version} used twice")
        found[version] = Migration(version, match["name"], path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def migrate(dsn: str, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration; return the ones applied now."""
    pending_all = packaged_migrations() if migrations is None else migrations
    applied_now: list[Migration] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute(_DDL)
            rows = conn.execute(
                "select version, checksum from public.streamflow_migrations"
            ).fetchall()
            done = {int(version): str(checksum) for version, checksum in rows}
            for migration in pending_all:
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"V{migration.version:03d}__{migration.name} changed after it was "
                            "applied; add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql.encode("utf-8"))
                    conn.execute(
                        "insert into public.streamflow_migrations (version, name, checksum) "
                        "values (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now


def create_database(pg: PostgresSettings) -> bool:
    """Create ``pg.database`` (connecting to ``postgres``) unless it exists; True if created."""
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (pg.database,)
        ).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(pg.database)))
    return True
