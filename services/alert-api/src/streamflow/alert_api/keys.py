"""API-key administration: ``python -m streamflow.alert_api.keys create|list|revoke``.

``create`` prints (or writes to ``--out``, mode 0600) the plaintext key once; only its keyed hash
is stored. ``--rate-limit 0`` exempts a key from rate limiting (the bench key).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

import psycopg

from streamflow.alert_api.auth import Scope, generate_key, hash_key
from streamflow.alert_api.config import Settings
from streamflow.platform.settings import SettingsError, load_settings


def create_key(
    settings: Settings,
    name: str,
    scopes: list[str],
    rate_limit_per_minute: int | None = None,
) -> tuple[str, str]:
    """Store a new key; return ``(key_id, plaintext)``."""
    unknown = sorted(set(scopes) - {s.value for s in Scope})
    if unknown or not scopes:
        raise ValueError(f"unknown scopes {unknown}; use {', '.join(s.value for s in Scope)}")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 0:
        raise ValueError("rate limit must be >= 0 (0 = exempt)")
    key_id = "k_" + secrets.token_hex(6)
    plaintext = generate_key()
    digest = hash_key(plaintext, settings.api_key_pepper.get_secret_value())
    with psycopg.connect(settings.pg.dsn()) as conn:
        conn.execute(
            "insert into app.api_keys (key_id, name, key_hash, scopes, rate_limit_per_minute) "
            "values (%s, %s, %s, %s, %s)",
            (key_id, name, digest, sorted(set(scopes)), rate_limit_per_minute),
        )
    return key_id, plaintext


def revoke_key(settings: Settings, key_id: str) -> bool:
    """Revoke a key; False if no active key has that id."""
    with psycopg.connect(settings.pg.dsn()) as conn:
        cur = conn.execute(
            "update app.api_keys set revoked_at = now() where key_id = %s and revoked_at is null",
            (key_id,),
        )
        return cur.rowcount == 1


def list_keys(settings: Settings) -> list[tuple[str, str, list[str], int | None, bool]]:
    """Every key: id, name, scopes, rate limit, revoked."""
    with psycopg.connect(settings.pg.dsn()) as conn:
        rows = conn.execute(
            "select key_id, name, scopes, rate_limit_per_minute, revoked_at is not null "
            "from app.api_keys order by created_at"
        ).fetchall()
    return [(str(a), str(b), list(c), d, bool(e)) for a, b, c, d, e in rows]


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m streamflow.alert_api.keys")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", default=Scope.READ.value, help="comma-separated")
    create.add_argument("--rate-limit", type=int, default=None, help="per minute; 0 = exempt")
    create.add_argument("--out", type=Path, help="write the key to this file (0600)")
    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    sub.add_parser("list", help="list keys (never the key itself)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(Settings)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.command == "create":
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        try:
            key_id, plaintext = create_key(settings, args.name, scopes, args.rate_limit)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.out:
            _write_secret(args.out, plaintext)
            print(f"created {key_id}; key written to {args.out}")
        else:
            print(f"created {key_id}; the key (shown once):\n{plaintext}")
        return 0
    if args.command == "revoke":
        if revoke_key(settings, args.key_id):
            print(f"revoked {args.key_id}")
            return 0
        print(f"no active key {args.key_id}", file=sys.stderr)
        return 1
    for key_id, name, scopes, limit, revoked in list_keys(settings):
        state = "revoked" if revoked else "active"
        print(
            f"{key_id}\t{name}\t{','.join(scopes)}\t{limit if limit is not None else '-'}\t{state}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
