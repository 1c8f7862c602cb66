"""The scorer's environment runs the scoring core compiled (setup step 51, docs/adr/0123)."""

from __future__ import annotations

import importlib

import streamflow.scoring
from streamflow.scoring.compiled import COMPILED_MODULES


def test_the_per_event_modules_load_from_the_compiled_build() -> None:
    assert streamflow.scoring.COMPILED
    for name in COMPILED_MODULES:
        module = importlib.import_module(f"streamflow.scoring.{name}")
        assert module.__file__ is not None
        assert module.__file__.endswith(".so"), module.__file__
