"""``streamflow-scorer``: run the fraud-scoring job locally, inspect its checkpoints.

* ``streamflow-scorer run``: run the job in a local MiniCluster (foreground; the process is
  replaced by the PyFlink interpreter, so signals reach the job directly). It resumes from the
  newest retained checkpoint unless ``STREAMFLOW_SCORER_RESTORE=none``.
* ``streamflow-scorer latest-checkpoint``: print the checkpoint a restart would resume from.
* ``streamflow-scorer settings``: print the effective settings (secrets masked).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from streamflow.fraud_scorer.config import Settings
from streamflow.fraud_scorer.runner.checkpoints import latest_checkpoint
from streamflow.fraud_scorer.runner.launch import flink_python, job_command, job_environment
from streamflow.platform.settings import SettingsError, load_settings

log = logging.getLogger("streamflow.fraud_scorer")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamflow-scorer", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the scoring job in a local MiniCluster (foreground)")
    sub.add_parser("latest-checkpoint", help="print the checkpoint a restart resumes from")
    sub.add_parser("settings", help="print the effective settings")
    return parser


def run(settings: Settings) -> int:
    """Replace this process with the job; returns only when the interpreter is missing."""
    python = flink_python(settings)
    if not python.is_file():
        log.error("PyFlink environment not found at %s: run 'make setup'", python)
        return 2
    found = latest_checkpoint(settings.checkpoint_dir) if settings.restore == "latest" else None
    log.info("starting the scoring job (resume from %s)", found or "nothing")
    command = job_command(settings)
    os.execve(command[0], command, job_environment(settings, os.environ))  # noqa: S606


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``streamflow-scorer`` console script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(Settings)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "latest-checkpoint":
        found = latest_checkpoint(settings.checkpoint_dir)
        print(found if found is not None else "")
        return 0 if found is not None else 1
    if args.command == "settings":
        print(settings.model_dump_json(indent=2))
        return 0
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
