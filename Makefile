# StreamFlow: the stable interface for users, CI and every issue. Each target wraps a script or `uv run`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ARGS ?=
UV := scripts/uv.sh

.PHONY: help setup up down status test lint typecheck demo bench test-faults generate backtest rules models train replay

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install everything needed (idempotent): apt packages, uv environments, Maven jars, Go check tools
	@scripts/setup.sh

up: setup ## start local Kafka (KRaft), PostgreSQL and the MLflow registry on loopback, create topics, migrate
	@scripts/infra/up.sh

down: ## stop everything started by this project
	@scripts/infra/down.sh

status: ## show what is running and on which port
	@scripts/infra/status.sh

lint: setup ## ruff lint + format check
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .

typecheck: setup ## mypy --strict on all Python code
	@scripts/typecheck.sh

test: setup ## lint + typecheck + all tests with coverage (>= 85%)
	@$(MAKE) --no-print-directory lint typecheck
	@scripts/test.sh

demo: setup ## run the whole pipeline locally and print what happened
	@scripts/demo.sh

bench: setup ## run the benchmark suite; writes bench/results/latest.json and docs/benchmarks.md
	@scripts/bench.sh

test-faults: setup ## long fault-injection runs with exact accounting
	@scripts/test_faults.sh

generate: setup ## generate transactions: make generate ARGS="--seed 7 --count 1000 --out x.parquet"
	@$(UV) run streamflow-generate $(ARGS)

backtest: setup ## replay a labelled file: make backtest INPUT=f.parquet OUT=report.json ARGS="..."
	@scripts/backtest.sh "$(INPUT)" "$(OUT)" $(ARGS)

rules: setup ## inspect/publish rule sets: make rules ARGS="show|publish FILE|diff FILE"
	@scripts/rules.sh $(ARGS)

models: setup ## the job's model slots: make models ARGS="status | publish VERSION --slot shadow|current"
	@scripts/uv.sh run python -m streamflow.lab.models_cli $(ARGS)

train: setup ## train: ARGS="[iforest] FILE" (anomaly model) or ARGS="gbdt FILE ..." (registry + gate)
	@scripts/train.sh $(ARGS)

replay: setup ## re-ingest: make replay ARGS="dead-letters --since ..." or ARGS="topic T --from-offset N"
	@scripts/replay.sh $(ARGS)
