"""Backtest and training end to end on small synthetic files (Parquet and CSV, unsorted)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from scorer_testdata import synthetic_rows, write_rows

from streamflow.scorer import backtest, labelled_file, train
from streamflow.scorer.labelled_file import LabelledFileError, read_labelled
from streamflow.scorer.model import read_model


def test_reader_sorts_out_of_core(labelled_parquet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(labelled_file, "RUN_ROWS", 300)
    monkeypatch.setattr(labelled_file, "BATCH_ROWS", 128)
    epochs = [row.view.epoch for row in read_labelled(labelled_parquet)]
    assert epochs == sorted(epochs)
    assert len(epochs) == len(synthetic_rows())


def test_csv_and_parquet_give_the_same_rows(tmp_path: Path) -> None:
    rows = synthetic_rows(customers=8, days=3)
    from_csv = list(read_labelled(write_rows(rows, tmp_path / "f.csv")))
    from_parquet = list(read_labelled(write_rows(rows, tmp_path / "f.parquet")))
    assert [r.view for r in from_csv] == [r.view for r in from_parquet]


def test_missing_columns_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("transaction_id,amount\nt1,10.00\n")
    with pytest.raises(LabelledFileError, match="missing required"):
        list(read_labelled(path))


def test_train_then_backtest_with_compare(
    labelled_parquet: Path, blacklist_file: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "model.npz"
    assert train.main([str(labelled_parquet), "--out", str(model_path), "--trees", "8"]) == 0
    assert read_model(model_path).version.startswith("iforest-")
    other = tmp_path / "other.yaml"
    other.write_text("version: 2\nalert_threshold: 0.9\nvelocity:\n  enabled: false\n")
    out, scores = tmp_path / "report.json", tmp_path / "scores.csv"
    args = [str(labelled_parquet), "--out", str(out), "--model", str(model_path)]
    args += ["--blacklist", str(blacklist_file), "--compare", str(other)]
    args += ["--scores-out", str(scores), "--feedback-delay", "2d", "--k", "5"]
    assert backtest.main(args) == 0
    report = json.loads(out.read_text())
    for key in ("average_precision", "roc_auc", "precision", "recall", "alerts_per_1000"):
        assert isinstance(report[key], float)
    assert report["per_scenario"]["blacklist"]["recall"] == 1.0
    assert report["per_scenario"]["velocity"]["recall"] >= 3 / 8  # the 6th payment on
    assert report["per_rule"]["FR-005"]["fired"] == 10
    assert report["card_precision_at_k"]["k"] == 5
    assert report["events_per_second"] > 0
    assert Path(report["pr_curve_png"]).stat().st_size > 1000
    compare = report["compare"]
    assert "alert_threshold: 0.5 -> 0.9" in compare["rule_changes"]
    assert compare["alerts_only_with_base"] >= compare["alerts_only_with_other"]
    with scores.open() as fh:
        written = list(csv.reader(fh))
    assert written[0] == ["transaction_id", "score"]
    assert len(written) - 1 == report["rows"]


def test_rules_only_without_feedback(labelled_parquet: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = [str(labelled_parquet), "--out", str(out), "--no-model", "--no-feedback", "--no-plot"]
    assert backtest.main(args) == 0
    report = json.loads(out.read_text())
    assert report["model_version"] is None
    assert report["feedback_delay_seconds"] is None
    assert report["per_rule"].get("MERCHANT", {}).get("fired", 0) == 0
