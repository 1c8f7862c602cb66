"""``streamflow-ingestor``: run the ingestor, or replay dead letters / a topic range."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from streamflow.ingestor.app import run_until_signalled
from streamflow.ingestor.config import Settings
from streamflow.ingestor.logs import configure_logging
from streamflow.ingestor.replay import ReplayError, replay_dead_letters, replay_topic
from streamflow.ingestor.writer import StartupError
from streamflow.platform.settings import SettingsError, load_settings

_RELATIVE = re.compile(r"^(?P<n>\d+)(?P<unit>[smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (naive = UTC) or a relative one such as ``30m``, ``2h``, ``7d`` ago."""
    match = _RELATIVE.match(text.strip())
    if match:
        delta = timedelta(**{_UNITS[match["unit"]]: int(match["n"])})
        return (now or datetime.now(tz=UTC)) - delta
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected an ISO 8601 time or a relative one like 30m, 2h, 7d"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="streamflow-ingestor", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="consume every topic into bronze (the default)")
    replay = sub.add_parser("replay", help="re-process dead letters or re-ingest a topic range")
    kinds = replay.add_subparsers(dest="kind", required=True)
    dl = kinds.add_parser("dead-letters", help="re-validate dead letters after a fix")
    dl.add_argument("--since", type=parse_when, required=True, help="ISO time or 30m/2h/7d")
    dl.add_argument("--topic", help="only this (configured) topic name")
    dl.add_argument("--dry-run", action="store_true", help="count what would pass; write nothing")
    tp = kinds.add_parser("topic", help="re-ingest a range of one topic (idempotent)")
    tp.add_argument("topic", help="topic name (configured or default, e.g. transactions.raw)")
    start = tp.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-offset", type=int, help="first offset (every partition)")
    start.add_argument("--from-time", type=parse_when, help="ISO time or 30m/2h/7d")
    tp.add_argument("--to-offset", type=int, help="last offset, inclusive (default: the end)")
    tp.add_argument("--partition", type=int, help="only this partition")
    return parser


async def _replay(settings: Settings, args: argparse.Namespace) -> dict[str, object]:
    if args.kind == "dead-letters":
        summary = await replay_dead_letters(settings, args.since, args.topic, args.dry_run)
    else:
        summary = await replay_topic(
            settings,
            args.topic,
            from_offset=args.from_offset,
            from_time=args.from_time,
            to_offset=args.to_offset,
            partition=args.partition,
        )
    return asdict(summary)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(Settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        if args.command == "replay":
            print(json.dumps(asyncio.run(_replay(settings, args)), indent=2))
        else:
            return asyncio.run(run_until_signalled(settings))
    except (StartupError, ReplayError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
