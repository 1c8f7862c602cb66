"""The command line in file mode: outputs, determinism, joins and bad input."""

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from streamflow.events import BlacklistRule, Transaction, decode
from streamflow.generator import cli

BASE = ["--seed", "7", "--count", "4000", "--days", "20", "--customers", "400", "--quiet"]


def run(tmp: Path, *extra: str, name: str = "a") -> dict[str, Path]:
    paths = {
        "out": tmp / f"{name}-tx.parquet",
        "labels": tmp / f"{name}-labels.parquet",
        "labelled": tmp / f"{name}-labelled.parquet",
        "blacklist": tmp / f"{name}-blacklist.json",
    }
    code = cli.main(
        [*BASE, "--out", str(paths["out"]), "--labels-out", str(paths["labels"]),
         "--labelled-out", str(paths["labelled"]), "--blacklist-out", str(paths["blacklist"]),
         *extra]
    )  # fmt: skip
    assert code == 0
    return paths


def test_files_are_byte_identical_for_a_seed(tmp_path: Path) -> None:
    a = run(tmp_path, name="a")
    b = run(tmp_path, name="b")
    c = run(tmp_path, "--seed", "8", name="c")
    for kind in ("out", "labels", "labelled", "blacklist"):
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    assert a["out"].read_bytes() != c["out"].read_bytes()


def test_labels_join_transactions_one_to_one(tmp_path: Path) -> None:
    paths = run(tmp_path)
    tx = pq.read_table(paths["out"])
    labels = pq.read_table(paths["labels"])
    labelled = pq.read_table(paths["labelled"])
    assert tx.num_rows == labels.num_rows == labelled.num_rows == 4000
    assert "label" not in tx.column_names
    assert "scenario" not in tx.column_names
    assert set(tx.column_names) == set(Transaction.model_fields)
    assert labels.column_names == ["transaction_id", "label", "scenario"]
    tx_ids = tx.column("transaction_id").to_pylist()
    assert len(set(tx_ids)) == len(tx_ids)
    assert set(tx_ids) == set(labels.column("transaction_id").to_pylist())
    joined = dict(
        zip(labels.column("transaction_id").to_pylist(), labels.column("label").to_pylist(),
            strict=True)
    )  # fmt: skip
    assert labelled.column("label").to_pylist() == [joined[t] for t in tx_ids]
    assert labelled.select(tx.column_names).equals(tx)
    assert sum(joined.values()) > 0
    scenarios = set(labels.column("scenario").to_pylist())
    assert "legit" in scenarios
    assert len(scenarios) >= 5


def test_jsonl_holds_the_same_events_as_parquet(tmp_path: Path) -> None:
    run(tmp_path, name="p")
    jsonl, labelled = tmp_path / "tx.jsonl", tmp_path / "labelled.jsonl"
    labels = tmp_path / "labels.jsonl"
    assert cli.main([*BASE, "--out", str(jsonl), "--labelled-out", str(labelled),
                     "--labels-out", str(labels)]) == 0  # fmt: skip
    table = pq.read_table(tmp_path / "p-tx.parquet").to_pylist()
    lines = jsonl.read_bytes().splitlines()
    assert len(lines) == len(table)
    for line, row in zip(lines[:500], table[:500], strict=True):
        tx = decode(Transaction, line)
        assert tx.transaction_id == row["transaction_id"]
        assert tx.amount == row["amount"]
        assert tx.event_time == row["event_time"]
        assert tx.latitude == row["latitude"]
    first = json.loads(labelled.read_bytes().splitlines()[0])
    assert {"label", "scenario"} <= set(first)
    assert json.loads(labels.read_bytes().splitlines()[0])["label"] in (0, 1)


def test_blacklist_file_loads_as_a_rule(tmp_path: Path) -> None:
    paths = run(tmp_path)
    rule = BlacklistRule.model_validate_json(paths["blacklist"].read_text())
    assert rule.merchant_ids
    assert rule.card_ids
    labelled = pq.read_table(paths["labelled"]).to_pylist()
    for row in labelled:
        listed = row["card_id"] in rule.card_ids or row["merchant_id"] in rule.merchant_ids
        assert listed == (row["scenario"] == "blacklist")


def test_perturb_changes_the_data(tmp_path: Path) -> None:
    a = run(tmp_path, name="a")
    b = run(tmp_path, "--perturb", name="b")
    assert a["labels"].read_bytes() != b["labels"].read_bytes()
    assert run(tmp_path, "--perturb", "--fraud-rate", "0.02", "--scenario-rate",
               "card_testing=0.001", name="c")  # fmt: skip


def test_help_exits_zero(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "--malformed-rate" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "-5"], "--rate must be > 0"),
        (["--fraud-rate", "1.5"], "--fraud-rate must be within [0, 1]"),
        (["--count", "0"], "--count must be >= 1"),
        (["--days", "0"], "--days must be >= 1"),
        (["--customers", "3"], "--customers must be >= 50"),
        (["--merchants", "3"], "--merchants must be >= 20"),
        (["--late-rate", "-0.1"], "--late-rate must be within"),
        (["--late-max-seconds", "0"], "--late-max-seconds"),
        (["--chargeback-delay-days", "-1"], "chargeback delay"),
        (["--metrics-port", "70000"], "--metrics-port"),
        (["--scenario-rate", "nope=0.1"], "unknown scenario"),
        (["--scenario-rate", "card_testing=x"], "must be a number"),
        (["--scenario-rate", "card_testing=2"], "within [0, 1]"),
        (["--scenario-rate", "card_testing=0.6", "--scenario-rate", "odd_hour=0.6"], "more than 1"),
        (["--start", "tomorrow"], "--start must be"),
        (["--out", "x.csv"], ".parquet or .jsonl"),
        (["--out", "x.parquet", "--labels-out", "x.parquet"], "different files"),
        (["--out", "x.parquet", "--malformed-rate", "0.1"], "needs Kafka"),
        (["--seed-reference", "--no-seed-reference"], "contradict"),
        (["--reference-only", "--no-seed-reference"], "needs PostgreSQL"),
    ],
)
def test_bad_flags_fail_fast(args: list[str], message: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_settings_exit_2(monkeypatch: Any, capsys: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("STREAMFLOW_GENERATOR_METRICS_PORT", "-1")
    assert cli.main([*BASE, "--out", str(tmp_path / "x.parquet")]) == 2
    assert "STREAMFLOW_GENERATOR_METRICS_PORT" in capsys.readouterr().err
