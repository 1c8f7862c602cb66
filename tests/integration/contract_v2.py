"""A v2 fixture contract of ``transactions.raw``: the current ``Transaction`` plus one new field.

Test-only. It stands for the next real bump of the transaction contract (an additive change:
``SCHEMA_VERSION`` + 1 and one optional field, nothing to upgrade), so a test can run the real
services as they would be after that bump and show that the producer's new events land next to
the N-1 events. :func:`install` makes the v2 classes the contract in one process: every loaded
``streamflow`` module's reference to ``Transaction`` (and to ``ScoredTransaction``, which embeds
the transaction as received) and the ``transactions.raw``/``transactions.scored`` topic specs
point at them afterwards. It must run before the service imports its modules: the test puts a
``sitecustomize`` that calls it on the ``PYTHONPATH`` of each service process
(:func:`write_site_hook`), which the interpreter imports at start-up, the PyFlink job's embedded
Python included.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from streamflow.events import scored, topics, transactions
from streamflow.events.base import Contract

V2 = transactions.Transaction.SCHEMA_VERSION + 1
"""The fixture's version: one above the contract in the code."""
NEW_FIELD = "loyalty_tier"
"""The one field the v2 contract adds (optional, so N-1 events decode unchanged)."""
_HOOK = "sitecustomize.py"


class TransactionV2(transactions.Transaction):
    """``Transaction`` with one new optional field, at the next schema version."""

    SCHEMA_VERSION: ClassVar[int] = V2

    schema_version: int = Field(
        default=V2,
        ge=1,
        description="Version of this contract the producer wrote; consumers accept it and N-1.",
    )
    loyalty_tier: str | None = Field(
        default=None, min_length=1, max_length=16, description="The customer's loyalty tier."
    )


class ScoredTransactionV2(scored.ScoredTransaction):
    """``ScoredTransaction`` embedding the v2 transaction (its own version is unchanged)."""

    transaction: TransactionV2 = Field(description="The transaction as received.")


def install() -> dict[type[Contract], type[Contract]]:
    """Make the v2 classes the contract of this process; returns what replaced what."""
    replaced: dict[type[Contract], type[Contract]] = {
        transactions.Transaction: TransactionV2,
        scored.ScoredTransaction: ScoredTransactionV2,
    }
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "streamflow" or name.startswith("streamflow.")):
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, type) and value in replaced:
                setattr(module, attr, replaced[value])
    for topic, spec in list(topics.TOPICS.items()):
        if spec.value_model in replaced:
            topics.TOPICS[topic] = dataclasses.replace(spec, value_model=replaced[spec.value_model])
    return replaced


def write_site_hook(directory: Path) -> Path:
    """A directory for ``PYTHONPATH`` whose ``sitecustomize`` installs the v2 contract.

    This module is copied next to the hook, so the services (the PyFlink job runs in its own
    environment) import it without the repository's ``tests`` on their path.
    """
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(__file__, directory / "streamflow_contract_v2.py")
    # Silent: PyFlink and pemja run this interpreter to ask it questions (the embedded Python's
    # library path, read from its output), and the hook runs there too.
    (directory / _HOOK).write_text(
        '"""Installs the v2 fixture contract at interpreter start-up (test only)."""\n\n'
        "import streamflow_contract_v2\n\n"
        "streamflow_contract_v2.install()\n",
        encoding="utf-8",
    )
    return directory
