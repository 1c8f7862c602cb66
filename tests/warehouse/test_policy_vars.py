"""The warehouse's validation rules are the policy's: dbt's vars are generated from it and current.

Fast and offline (no database, no dbt): reads ``dbt/dbt_project.yml`` and the SQL/yml that use
the vars. Fix a failure with ``scripts/uv.sh run python -m scripts.warehouse.policy_vars --write``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from scripts.warehouse import policy_vars
from streamflow.events import Transaction, policy

DBT = Path(__file__).resolve().parents[2] / "dbt"
MACRO = (DBT / "macros" / "incremental.sql").read_text(encoding="utf-8")


def _project_vars() -> dict[str, Any]:
    project: dict[str, Any] = yaml.safe_load(policy_vars.DBT_PROJECT.read_text(encoding="utf-8"))
    variables: dict[str, Any] = project["vars"]
    return variables


def test_committed_vars_are_the_policy() -> None:
    assert policy_vars.committed_block() == policy_vars.render(), (
        "dbt/dbt_project.yml's policy vars drifted from streamflow.events.policy: run "
        "scripts/uv.sh run python -m scripts.warehouse.policy_vars --write"
    )
    assert policy_vars.main(["--check"]) == 0


def test_dbt_reads_the_policy_values() -> None:
    """What dbt will parse (not only the block's text): no later key shadows a generated one."""
    variables = _project_vars()
    assert variables["policy_max_future_skew"] == (
        f"{int(policy.MAX_FUTURE_SKEW.total_seconds())} seconds"
    )
    assert variables["policy_earliest_event_time"] == policy.EARLIEST_EVENT_TIME.isoformat()
    assert Decimal(variables["policy_amount_min"]) == policy.AMOUNT_MIN
    assert Decimal(variables["policy_amount_max"]) == policy.AMOUNT_MAX
    accepted = variables["policy_accepted_schema_versions"]
    assert {k: tuple(v) for k, v in accepted.items()} == policy.accepted_schema_versions()
    default = Transaction.model_fields["currency"].default
    assert variables["transaction_default_currency"] == default
    assert re.search(r"""var\(['"]transaction_default_currency['"]\)""", MACRO)
    # the vars they replace are gone, so nothing can read a second, stale value
    assert not {"max_clock_skew", "max_amount"} & set(variables)


def test_the_reject_rules_use_the_vars_and_the_policy_reason_codes() -> None:
    rules = {
        "policy_accepted_schema_versions": policy.UNSUPPORTED_SCHEMA_VERSION,
        "policy_amount_min": policy.AMOUNT_NOT_POSITIVE,
        "policy_amount_max": policy.AMOUNT_TOO_LARGE,
        "policy_max_future_skew": policy.EVENT_TIME_IN_FUTURE,
        "policy_earliest_event_time": policy.EVENT_TIME_TOO_OLD,
    }
    for var, reason in rules.items():
        assert re.search(rf"""var\(['"]{var}['"]\)""", MACRO), f"{var} unused by the macro"
        assert f"then '{reason}'" in MACRO, f"the macro does not emit {reason}"
    # no literal left behind for a rule the policy owns
    for literal in ("<> 1", "1000000", "2000-01-01", "1 day"):
        assert literal not in MACRO
    staging = (DBT / "models" / "staging" / "_staging.yml").read_text(encoding="utf-8")
    assert "var('policy_amount_min')" in staging
    assert "var('policy_amount_max')" in staging
    reasons = yaml.safe_load(staging)["models"]
    rejects = next(m for m in reasons if m["name"] == "stg_transactions_rejects")
    column = next(c for c in rejects["columns"] if c["name"] == "reject_reason")
    accepted = next(t for t in column["data_tests"] if isinstance(t, dict))["accepted_values"]
    assert set(rules.values()) <= set(accepted["arguments"]["values"])


def test_a_v2_contract_renders_current_and_previous_versions() -> None:
    values = policy_vars.dbt_vars({"Transaction": policy.accepted_versions(2)})
    assert values["policy_accepted_schema_versions"] == {"Transaction": [1, 2]}
    block = policy_vars.render(values)
    parsed = yaml.safe_load("vars:\n" + block)["vars"]
    assert parsed["policy_accepted_schema_versions"] == {"Transaction": [1, 2]}
    assert block.startswith(policy_vars.BEGIN)
    assert block.endswith(policy_vars.END + "\n")


def test_write_regenerates_only_the_block(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project.yml"
    stale = policy_vars.render({"policy_amount_max": "1000000"})
    project.write_text(f"vars:\n  keep: 1\n{stale}  after: 2\n", encoding="utf-8")
    assert policy_vars.write(project) is True
    assert project.read_text(encoding="utf-8") == (
        f"vars:\n  keep: 1\n{policy_vars.render()}  after: 2\n"
    )
    assert policy_vars.write(project) is False
