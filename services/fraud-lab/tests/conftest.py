"""Fixtures of the lab's tests (helpers live in ``lab_testdata``, put on sys.path here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lab_testdata import synthetic_rows, write_rows


@pytest.fixture
def labelled_parquet(tmp_path: Path) -> Path:
    """A small unsorted synthetic labelled Parquet file."""
    return write_rows(synthetic_rows(), tmp_path / "labelled.parquet")


@pytest.fixture
def blacklist_file(tmp_path: Path) -> Path:
    """A blacklist with the synthetic data's stolen card."""
    path = tmp_path / "blacklist.json"
    path.write_text('{"card_ids": ["K-STOLEN-1"], "merchant_ids": ["M-BAD"]}')
    return path
