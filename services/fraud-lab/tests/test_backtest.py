"""Backtest and training end to end on small synthetic files (Parquet and CSV, unsorted)."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lab_testdata import synthetic_rows, write_rows

from streamflow.events import Transaction
from streamflow.lab import backtest, labelled_file, train
from streamflow.lab.labelled_file import LabelledFileError, read_labelled
from streamflow.lab.scores_out import ScoresWriter
from streamflow.scoring import CustomerState, score_transaction
from streamflow.scoring.comparison import RuleSetRun
from streamflow.scoring.gbdt import stump
from streamflow.scoring.model import load_model, read_model
from streamflow.scoring.rulesets import default_rules


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


def test_legit_only_file_reports_null_metrics(tmp_path: Path) -> None:
    rows = [r for r in synthetic_rows(customers=6, days=4) if r["label"] == 0]
    path = write_rows(rows, tmp_path / "legit.parquet")
    out = tmp_path / "r.json"
    assert backtest.main([str(path), "--out", str(out), "--no-model", "--no-plot"]) == 0
    report = json.loads(out.read_text())
    assert report["average_precision"] is None
    assert report["recall"] is None
    assert report["alerts_per_1000"] >= 0.0


def test_backtest_scores_equal_the_job_path(
    labelled_parquet: Path, blacklist_file: Path, tmp_path: Path
) -> None:
    """The backtest's fast path and score_transaction (what the Flink job calls) agree exactly."""
    model_path = tmp_path / "model.npz"
    assert train.main([str(labelled_parquet), "--out", str(model_path), "--trees", "4"]) == 0
    scores = tmp_path / "scores.csv"
    args = [str(labelled_parquet), "--out", str(tmp_path / "r.json"), "--no-plot"]
    args += ["--model", str(model_path), "--blacklist", str(blacklist_file), "--no-feedback"]
    assert backtest.main([*args, "--arrival-order", "--scores-out", str(scores)]) == 0
    with scores.open() as fh:
        from_backtest = {row["transaction_id"]: row["score"] for row in csv.DictReader(fh)}
    model = load_model(model_path)
    rules = default_rules(blacklist_file)
    states: dict[str, CustomerState] = {}
    now = datetime.now(UTC)
    table = pq.read_table(labelled_parquet).to_pylist()
    for row in table:
        txn = Transaction.model_validate(
            {k: v for k, v in row.items() if k not in {"label", "scenario"}}
            | {"payment_method": "credit_card", "store_id": "S1", "amount": Decimal(row["amount"])},
            strict=False,
        )
        after, scored, _ = score_transaction(
            states.get(txn.customer_id), txn, rules, 0.0, model, now
        )
        states[txn.customer_id] = CustomerState.from_bytes(after.to_bytes())
        assert f"{scored.fraud_score:.6f}" == from_backtest[txn.transaction_id]


def test_score_rows_applies_explicit_feedback_when_due(
    labelled_parquet: Path, tmp_path: Path
) -> None:
    """Without feedback score_rows matches replay; a label counts only from its reported_at on."""
    rules = default_rules()
    rows = list(read_labelled(labelled_parquet))
    run = RuleSetRun(rules, 1)
    with ScoresWriter(tmp_path / "scores.csv") as writer:
        backtest.replay(rows, [run], None, feedback_delay_s=float("inf"), scores_out=writer)
    with (tmp_path / "scores.csv").open(newline="") as fh:
        scores_out = [(r["transaction_id"], r["score"]) for r in csv.DictReader(fh)]
    plain = {row.view.transaction_id: ev for row, ev in backtest.score_rows(rows, rules, None)}
    assert [(tid, f"{plain[tid].score:.6f}") for tid, _ in scores_out] == scores_out

    merchant = rows[len(rows) // 2].view.merchant_id
    due = rows[len(rows) // 2].view.epoch
    label = backtest.FeedbackLabel(reported_at=due, merchant_id=merchant, fraud=True)
    learned = {
        row.view.transaction_id: ev for row, ev in backtest.score_rows(rows, rules, None, [label])
    }
    weight = rules.merchant_risk.weight
    for row in rows:
        tid, view = row.view.transaction_id, row.view
        before, after = plain[tid].score, learned[tid].score
        if view.merchant_id != merchant or view.epoch < due:
            assert after == before
        elif before + weight * 0.25 < 1.0:
            # one fresh fraud label: risk 1 / (1 + 3), decaying with the half-life
            assert before < after <= round(before + weight * 0.25, 6)


def test_bad_rows_are_counted_with_their_reason_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "transaction_id,event_time,customer_id,merchant_id,amount,label\n"
        "t1,2026-11-01T10:00:00Z,C1,M1,10.00,0\n"
        "t2,2026-11-01T10:01:00Z,C1,M1,0.00,1\n"
        "t3,not a time,C1,M1,12.00,0\n"
        "t4,2026-11-01T10:03:00,C1,M1,12.00,0\n"
        ",2026-11-01T10:04:00Z,C1,M1,12.00,0\n"
        "t6,2026-11-01T10:05:00Z,C1,M1,abc,0\n"
        "t7,2026-11-01T10:06:00Z,C1,M1,12.00,2\n"
        "t8,2026-11-01T10:07:00Z,C1,M1,-3,0\n"
        "t9,2026-11-01T10:08:00Z,C1,M1,14.00,1\n"
    )
    out, scores = tmp_path / "report.json", tmp_path / "scores.parquet"
    args = [str(path), "--out", str(out), "--no-model", "--no-plot", "--scores-out", str(scores)]
    assert backtest.main(args) == 0
    report = json.loads(out.read_text())
    assert report["rows"] == 2
    assert report["rejected"]["rows"] == 7
    assert report["rejected"]["by_reason"] == {
        "amount must be a number > 0": 3,
        "unparsable event_time": 1,
        "event_time has no timezone": 1,
        "missing transaction_id, customer_id or merchant_id": 1,
        "label must be 0 or 1": 1,
    }
    # --scores-out follows the extension: a real Parquet file with both rows
    table = pq.read_table(scores)
    assert table.column_names == ["transaction_id", "score"]
    assert table.column("transaction_id").to_pylist() == ["t1", "t9"]


def test_a_supervised_model_file_scores_as_the_current_model(
    labelled_parquet: Path, tmp_path: Path
) -> None:
    model_file = tmp_path / "gbdt.npz"
    # fraud probability ~0.98 for every amount above 1,000: the model's part of the blend
    model_file.write_bytes(stump("gbdt-starter", "log_amount", math.log1p(1_000.0)).to_bytes())
    base, with_model = tmp_path / "base.json", tmp_path / "model.json"
    common = [str(labelled_parquet), "--no-model", "--no-plot", "--feedback-delay", "2d"]
    assert backtest.main([*common, "--out", str(base)]) == 0
    assert backtest.main([*common, "--out", str(with_model), "--supervised", str(model_file)]) == 0
    plain, scored = json.loads(base.read_text()), json.loads(with_model.read_text())
    assert plain["supervised_model_version"] is None
    assert scored["supervised_model_version"] == "gbdt-starter"
    assert "MODEL" not in plain["per_rule"]
    assert scored["per_rule"]["MODEL"]["fired"] > 0
    assert scored["alerts_per_1000"] >= plain["alerts_per_1000"]
