"""Mirror the validation policy into dbt's project vars, or check that the mirror is current.

dbt cannot import :mod:`streamflow.events.policy` (it runs from its own environment), so the
policy's values are written into a generated block of ``dbt/dbt_project.yml``'s ``vars`` (the
``policy_*`` vars ``transaction_reject_reason`` and the staging tests read). The block is
committed: every dbt invocation (scripts/warehouse/dbt.sh, the Cosmos DAGs, the tests, the
image) sees the same values without a generation step; a test in ``make test`` fails when it
drifts from the policy. Usage::

    scripts/uv.sh run python -m scripts.warehouse.policy_vars --check   # exit 1 and show the drift
    scripts/uv.sh run python -m scripts.warehouse.policy_vars --write   # regenerate in place
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from streamflow.events import Transaction, policy

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO_ROOT / "dbt" / "dbt_project.yml"
INDENT = "  "
BEGIN = (
    f"{INDENT}# >>> validation policy: generated from streamflow.events.policy by"
    " scripts/warehouse/policy_vars.py (do not edit; docs/adr/0059)"
)
END = f"{INDENT}# <<< validation policy"


def dbt_vars(
    accepted: Mapping[str, Iterable[int]] | None = None,
) -> dict[str, str | dict[str, list[int]]]:
    """The policy as dbt vars; ``accepted`` replaces the contracts' accepted schema versions."""
    skew = policy.MAX_FUTURE_SKEW.total_seconds()
    if skew != int(skew):
        raise ValueError(f"MAX_FUTURE_SKEW must be whole seconds, not {skew}")
    versions = policy.accepted_schema_versions() if accepted is None else accepted
    return {
        "policy_max_future_skew": f"{int(skew)} seconds",
        "policy_earliest_event_time": policy.EARLIEST_EVENT_TIME.isoformat(),
        "policy_amount_min": str(policy.AMOUNT_MIN),
        "policy_amount_max": str(policy.AMOUNT_MAX),
        "policy_accepted_schema_versions": {
            name: sorted(vs) for name, vs in sorted(versions.items())
        },
        # The contract's default for a record without one: dbt reads the payload (ADR 0134).
        "transaction_default_currency": str(Transaction.model_fields["currency"].default),
    }


def render(values: Mapping[str, object] | None = None) -> str:
    """The generated block, markers included (JSON values: valid YAML flow scalars)."""
    body = [
        f"{INDENT}{name}: {json.dumps(value)}" for name, value in (values or dbt_vars()).items()
    ]
    return "\n".join([BEGIN, *body, END]) + "\n"


def _split(text: str) -> tuple[str, str, str]:
    """``text`` as (before the block, the block, after it); the markers must be there once."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\n") == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(
            f"{DBT_PROJECT}: expected one generated block between {BEGIN!r} and {END!r}"
        )
    start, end = starts[0], ends[0]
    return "".join(lines[:start]), "".join(lines[start : end + 1]), "".join(lines[end + 1 :])


def committed_block(path: Path = DBT_PROJECT) -> str:
    """The generated block as committed in ``dbt_project.yml``."""
    return _split(path.read_text(encoding="utf-8"))[1]


def write(path: Path = DBT_PROJECT) -> bool:
    """Regenerate the block in place; whether the file changed."""
    before, block, after = _split(path.read_text(encoding="utf-8"))
    wanted = render()
    if block == wanted:
        return False
    path.write_text(before + wanted + after, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    """``--check`` (default): exit 1 and print a diff on drift; ``--write``: regenerate."""
    parser = argparse.ArgumentParser(description="Mirror the validation policy into dbt vars.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail on drift (the default)")
    mode.add_argument("--write", action="store_true", help="regenerate the block in place")
    args = parser.parse_args(argv)
    if args.write:
        changed = write()
        print(f"{DBT_PROJECT}: {'updated' if changed else 'already current'}")
        return 0
    committed, wanted = committed_block(), render()
    if committed == wanted:
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(keepends=True),
        wanted.splitlines(keepends=True),
        "dbt_project.yml (committed)",
        "streamflow.events.policy",
    )
    sys.stdout.writelines(diff)
    print("run: scripts/uv.sh run python -m scripts.warehouse.policy_vars --write")
    return 1


if __name__ == "__main__":
    sys.exit(main())
