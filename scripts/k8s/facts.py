"""Facts for the policies, from the StreamFlow code: `python -m scripts.k8s.facts [TREE COMPOSE]`.

Rego decides, but cannot import a pydantic settings class, read our code or list files. So this
reports, as `data.streamflow`: per workload (`<kind>/<name>`) the variables its settings read and
the Kafka topics, group and transactional ids it uses; the files of the kustomize tree; for each
compose service, what its settings read and which path it names is missing.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from scripts.k8s.paths import COMPOSE_FILE, KUSTOMIZE_DIR, REPO_ROOT
from streamflow.ingestor.tables import SPECS
from streamflow.platform.settings import TopicSettings, env_var_names

ENV_NAME = re.compile(r"\bSTREAMFLOW_[A-Z0-9_]*[A-Z0-9]\b")
JOB, SRC = "services/fraud-scorer/src/streamflow/fraud_scorer/", "services/{}/src/streamflow/{}.py"
TRAINING = "airflow/src/streamflow/orchestration/training.py"
# The DAGs' PostgreSQL connections and dbt's target (STREAMFLOW_PG_*, STREAMFLOW_DBT_TARGET).
ORCHESTRATION = "airflow/src/streamflow/orchestration/config.py"
# The model_training DAG's trainer (`python -m streamflow.lab.train`, run by Airflow's tasks):
# the shared settings (Kafka, topics), the registry's, and what the DAG's module reads itself.
TRAINER = [
    "streamflow.platform.settings:ServiceSettings",
    "streamflow.lab.registry:RegistrySettings",
]
# kind/name -> settings class(es), and files whose STREAMFLOW_* names the process reads too. The
# Airflow HelmChart's pods are the chart's (its values' env and extraEnvFrom, see
# k8s/policies/lib/settings.rego); MLflow reads no settings class, only its entrypoint's names.
SETTINGS: dict[str, tuple[str | list[str], list[str]]] = {
    "Deployment/generator": ("streamflow.generator.config:Settings", []),
    "Deployment/ingestor": ("streamflow.ingestor.config:Settings", []),
    "Deployment/alert-api": ("streamflow.alert_api.config:Settings", []),
    "FlinkDeployment/fraud-scorer": (
        "streamflow.fraud_scorer.config:Settings",
        [JOB + "environment.py"],
    ),
    "ConfigMap/streamflow-settings": ("streamflow.platform.settings:ServiceSettings", []),
    "HelmChart/airflow": (TRAINER, [TRAINING, ORCHESTRATION]),
    "ConfigMap/airflow-training": (TRAINER, [TRAINING]),
    "ConfigMap/airflow-postgres": ("streamflow.platform.settings:ServiceSettings", [ORCHESTRATION]),
    "Deployment/mlflow": ([], ["infra/mlflow/entrypoint.sh"]),
}
# Where a process's code hands topics to a producer or consumer: (operation, file, pattern whose
# group names `Topic.X` or `topics.x`), read so that the ACL policy follows the code; a pattern
# that matches nothing fails loudly. The ingestor reads every topic of its table specs (SPECS).
TOPICS = {
    "Deployment/generator": [
        ("Write", SRC.format("generator", "generator/runner"), r"sink\.connect\((.*)\)")
    ],
    "Deployment/alert-api": [
        ("Write", SRC.format("alert-api", "alert_api/publisher"), r"topics\.name\((.*)\)"),
        # the rule what-if reads the rules in force and publishes a new version (ADR 0104)
        ("Read", SRC.format("alert-api", "alert_api/rule_sets"), r"topics\.name\((.*)\)"),
        ("Write", SRC.format("alert-api", "alert_api/rule_sets"), r"topics\.name\((.*)\)"),
    ],
    "FlinkDeployment/fraud-scorer": [
        ("Read", JOB + "fraud_job.py", r"_source\(\s*env, settings, (topics\.\w+)"),
        ("Write", JOB + "fraud_job.py", r"_sink\(settings, (topics\.\w+)"),
    ],
    # The trainer's --publish (STREAMFLOW_TRAIN_PUBLISH=true): the model release producer.
    "HelmChart/airflow": [
        (
            "Write",
            SRC.format("fraud-lab", "lab/train_gbdt"),
            r"topic = service\.(topics\.\w+)",
        )
    ],
}


def settings_class(reference: str) -> type[BaseSettings]:
    module, _, name = reference.partition(":")
    cls: type[BaseSettings] = getattr(importlib.import_module(module), name)
    return cls


def use(cls: type[BaseSettings], field: str, resource: str, operation: str) -> dict[str, Any]:
    """A Kafka resource named by a setting: its variable and default, and what is done to it."""
    env = f"{cls.model_config.get('env_prefix', '')}{field}".upper()
    default = cls.model_fields[field].default
    return {"env": env, "default": default, "resource": resource, "operation": operation}


def kafka_uses(key: str) -> list[dict[str, Any]]:
    fields = [("Read", t.name.lower()) for t in SPECS] if key == "Deployment/ingestor" else []
    for operation, path, pattern in TOPICS.get(key, []):
        matched = "\n".join(re.findall(pattern, (REPO_ROOT / path).read_text()))
        found = re.findall(r"(?:Topic|topics)\.(\w+)", matched)
        if not found:
            raise LookupError(f"{path}: nothing matches {pattern!r}; update scripts/k8s/facts.py")
        fields += [(operation, field.lower()) for field in dict.fromkeys(found)]
    uses = [use(TopicSettings, field, "topic", operation) for operation, field in fields]
    references = SETTINGS[key][0]
    if not isinstance(references, str):  # no service settings class: no group, no transactions
        return uses
    cls = settings_class(references)
    if "group_id" in cls.model_fields and any(op == "Read" for op, _ in fields):
        uses.append(use(cls, "group_id", "group", "Read"))
    if "transactional_id_prefix" in cls.model_fields:  # one id per sink: prefix + suffix
        prefix = use(cls, "transactional_id_prefix", "transactionalId", "Write")
        uses.append(prefix | {"prefix": True})
    return uses


def reads(references: list[str], sources: list[Path]) -> list[str]:
    names = {name for source in sources for name in ENV_NAME.findall(source.read_text())}
    return sorted(names.union(*(env_var_names(settings_class(r)) for r in references)))


def compose_service(base: Path, service: dict[str, Any]) -> dict[str, Any]:
    build = service.get("build")
    spec = {"context": build} if isinstance(build, str) else build or {}
    context = base / str(spec.get("context", "."))
    paths = [context, context / str(spec.get("dockerfile", "Dockerfile"))] if build else []
    missing = [os.path.relpath(p, REPO_ROOT) for p in paths if not p.exists()][:1]
    sources = [base / s for s in service.get("x-streamflow-env-sources") or []]
    errors = [f"x-streamflow-env-sources: {s} does not exist" for s in sources if not s.is_file()]
    try:
        env = reads(service.get("x-streamflow-settings") or [], [s for s in sources if s.is_file()])
    except (ImportError, AttributeError) as err:
        env, errors = [], [*errors, f"cannot load its settings: {err!r}"]
    return {"env": env, "errors": errors, "missing_paths": missing}


def facts(tree: Path = KUSTOMIZE_DIR, compose: Path = COMPOSE_FILE) -> dict[str, Any]:
    workloads = {
        key: {
            "env": reads([ref] if isinstance(ref, str) else ref, [REPO_ROOT / s for s in srcs]),
            "kafka": kafka_uses(key),
        }
        for key, (ref, srcs) in SETTINGS.items()
    }
    files = sorted(str(p.relative_to(REPO_ROOT)) for p in tree.rglob("*") if p.is_file())
    services = yaml.safe_load(compose.read_text())["services"]
    services = {name: compose_service(compose.parent, s) for name, s in services.items()}
    return {
        "streamflow": {"workloads": workloads, "files": files, "compose": {"services": services}}
    }


if __name__ == "__main__":
    json.dump(facts(*[Path(arg).resolve() for arg in sys.argv[1:3]]), sys.stdout, indent=1)
