"""Airflow verifies PostgreSQL in prod like the services (docs/adr/0106): verify-full against the
CloudNativePG CA, which the CronJob pg-ca-copy copies (ca.crt only) into `airflow`; the policy
k8s.postgres fails any PostgreSQL client of the prod overlay that settles for less."""

from __future__ import annotations

import copy
import importlib.util
from types import ModuleType
from typing import Any

import pytest
import yaml

from scripts.k8s.paths import KUSTOMIZE_DIR
from scripts.k8s.render import Manifest
from tests.deploy.checks import conftest

COPIER = KUSTOMIZE_DIR / "overlays" / "prod" / "pg-ca-copy" / "copy_ca.py"
CA_FILE = "/etc/streamflow/pg-ca/ca.crt"
MOUNTED = "must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod"


def one(objs: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} objects"
    return found[0]


def chart_values(objs: list[Manifest]) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(
        one(objs, "HelmChart", "airflow")["spec"]["valuesContent"]
    )
    return values


def copier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("copy_ca", COPIER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_airflow_verifies_postgres_against_the_copied_ca_in_prod(
    overlays: dict[str, list[Manifest]],
) -> None:
    prod = overlays["prod"]
    settings = one(prod, "ConfigMap", "airflow-postgres")
    assert settings["metadata"]["namespace"] == "airflow"
    assert settings["data"] == {
        "STREAMFLOW_PG_SSLMODE": "verify-full",
        "STREAMFLOW_PG_SSLROOTCERT": CA_FILE,
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": CA_FILE,
        "STREAMFLOW_DBT_TARGET": "prod",
    }
    values = chart_values(prod)
    assert {"configMapRef": {"name": "airflow-postgres"}} in yaml.safe_load(values["extraEnvFrom"])
    # an `env` entry would override the ConfigMap in every Airflow container
    assert not {e["name"] for e in values["env"]} & {"STREAMFLOW_PG_SSLMODE", "PGSSLMODE"}
    [volume] = [v for v in values["volumes"] if v["name"] == "pg-ca"]
    [mount] = [m for m in values["volumeMounts"] if m["name"] == "pg-ca"]
    assert volume["secret"]["secretName"] == "streamflow-pg-ca"
    assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    assert f"{mount['mountPath']}/ca.crt" == CA_FILE
    # the host is the Service's name on CloudNativePG's server certificate, never an address
    host = {e["name"]: e["value"] for e in values["env"]}["STREAMFLOW_PG_HOST"]
    assert host == "streamflow-pg-rw.streamflow.svc"


def test_dev_keeps_require_and_has_no_ca_copy(overlays: dict[str, list[Manifest]]) -> None:
    dev = overlays["dev"]
    assert one(dev, "ConfigMap", "airflow-postgres")["data"] == {
        "STREAMFLOW_PG_SSLMODE": "require",
        "PGSSLMODE": "require",
    }
    assert not [o for o in dev if o["metadata"]["name"].startswith("pg-ca-copy")]


def test_the_ca_copy_reads_one_secret_and_writes_one_secret(
    overlays: dict[str, list[Manifest]],
) -> None:
    prod = overlays["prod"]
    job = one(prod, "CronJob", "pg-ca-copy")
    assert job["metadata"]["namespace"] == "streamflow"
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (env["CA_SECRET"], env["CA_SOURCE_NAMESPACE"], env["CA_TARGET_NAMESPACES"]) == (
        "streamflow-pg-ca",
        "streamflow",
        "airflow",
    )
    assert pod["serviceAccountName"] == "pg-ca-copy"
    read = one(prod, "Role", "pg-ca-copy-read")
    assert read["metadata"]["namespace"] == "streamflow"
    assert read["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["streamflow-pg-ca"],
            "verbs": ["get"],
        }
    ]
    write = one(prod, "Role", "pg-ca-copy-write")
    assert write["metadata"]["namespace"] == "airflow"
    for rule in write["rules"]:
        assert rule["resources"] == ["secrets"]
        assert rule.get("resourceNames") == ["streamflow-pg-ca"] or rule["verbs"] == ["create"]
    for name, namespace in [("pg-ca-copy-read", "streamflow"), ("pg-ca-copy-write", "airflow")]:
        binding = one(prod, "RoleBinding", name)
        assert binding["metadata"]["namespace"] == namespace
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "pg-ca-copy", "namespace": "streamflow"}
        ]
    egress = one(prod, "NetworkPolicy", "allow-kube-api-egress-pg-ca-copy")["spec"]
    assert egress["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "pg-ca-copy"}


def test_the_copy_holds_ca_crt_and_never_ca_key() -> None:
    module = copier()
    source = {
        "metadata": {"name": "streamflow-pg-ca", "namespace": "streamflow"},
        "data": {"ca.crt": "Y2VydA==", "ca.key": "a2V5"},
    }
    copied = module.copy_of(source, "airflow")
    assert copied["data"] == {"ca.crt": "Y2VydA=="}
    assert copied["metadata"]["namespace"] == "airflow"
    assert copied["metadata"]["name"] == "streamflow-pg-ca"
    with pytest.raises(KeyError, match=r"ca\.crt"):
        module.copy_of({**source, "data": {"ca.key": "a2V5"}}, "airflow")


def test_the_copier_applies_the_copy_to_each_target(monkeypatch: pytest.MonkeyPatch) -> None:
    module = copier()
    calls: list[tuple[str, str, dict[str, Any] | None]] = []
    source = {
        "metadata": {"name": "streamflow-pg-ca", "namespace": "streamflow"},
        "data": {"ca.crt": "Y2VydA==", "ca.key": "a2V5"},
    }

    def api(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        calls.append((method, path, body))
        return source if method == "GET" else body or {}

    monkeypatch.setattr(module, "api", api)
    monkeypatch.setenv("CA_SECRET", "streamflow-pg-ca")
    monkeypatch.setenv("CA_SOURCE_NAMESPACE", "streamflow")
    monkeypatch.setenv("CA_TARGET_NAMESPACES", "airflow, other")
    assert module.main() == 0
    assert [(m, p) for m, p, _ in calls] == [
        ("GET", "/api/v1/namespaces/streamflow/secrets/streamflow-pg-ca"),
        (
            "PATCH",
            "/api/v1/namespaces/airflow/secrets/streamflow-pg-ca"
            "?fieldManager=streamflow-pg-ca-copy&force=true",
        ),
        (
            "PATCH",
            "/api/v1/namespaces/other/secrets/streamflow-pg-ca"
            "?fieldManager=streamflow-pg-ca-copy&force=true",
        ),
    ]
    assert all(body["data"] == {"ca.crt": "Y2VydA=="} for _, _, body in calls[1:] if body)


def weakened(objs: list[Manifest], data: dict[str, str], keep_copy: bool = True) -> str:
    objs = copy.deepcopy(objs)
    one(objs, "ConfigMap", "airflow-postgres")["data"] = data
    if not keep_copy:
        objs = [
            o
            for o in objs
            if not (o["kind"] == "CronJob" and o["metadata"]["name"] == "pg-ca-copy")
        ]
    return yaml.safe_dump_all(objs)


PROD_SETTINGS = {
    "STREAMFLOW_PG_SSLMODE": "verify-full",
    "STREAMFLOW_PG_SSLROOTCERT": CA_FILE,
    "PGSSLMODE": "verify-full",
    "PGSSLROOTCERT": CA_FILE,
}
AIRFLOW = "[k8s.postgres] HelmChart kube-system/airflow"


@pytest.mark.parametrize(
    ("data", "keep_copy", "expected"),
    [
        # what prod had before ADR 0106
        (
            {"STREAMFLOW_PG_SSLMODE": "require"},
            True,
            {
                f"{AIRFLOW}: STREAMFLOW_PG_SSLMODE is require in prod; verify-full checks the"
                " server",
                f"{AIRFLOW}: PGSSLMODE is unset in prod; the chart's own connection (libpq's"
                " default) must use verify-full",
                f"{AIRFLOW}: STREAMFLOW_PG_SSLROOTCERT {MOUNTED}",
                f"{AIRFLOW}: PGSSLROOTCERT {MOUNTED}",
            },
        ),
        (
            {**PROD_SETTINGS, "PGSSLMODE": "verify-ca"},
            True,
            {f"{AIRFLOW}: PGSSLMODE is verify-ca in prod; verify-full checks the server"},
        ),
        (
            {**PROD_SETTINGS, "STREAMFLOW_PG_SSLROOTCERT": "/etc/ssl/certs/ca-certificates.crt"},
            True,
            {f"{AIRFLOW}: STREAMFLOW_PG_SSLROOTCERT {MOUNTED}"},
        ),
        # the mount names the Secret, but nothing copies it into `airflow`
        (
            PROD_SETTINGS,
            False,
            {
                f"{AIRFLOW}: STREAMFLOW_PG_SSLROOTCERT {MOUNTED}",
                f"{AIRFLOW}: PGSSLROOTCERT {MOUNTED}",
            },
        ),
    ],
    ids=["require-as-before", "verify-ca", "system-ca", "no-copy"],
)
def test_a_weaker_airflow_connection_in_prod_fails_the_policy(
    overlays: dict[str, list[Manifest]],
    facts: dict[str, Any],
    data: dict[str, str],
    keep_copy: bool,
    expected: set[str],
) -> None:
    text = weakened(overlays["prod"], data, keep_copy)
    assert set(conftest("manifests", facts, ["-"], text)) == expected


def test_a_service_with_require_in_prod_fails_the_policy(
    overlays: dict[str, list[Manifest]], facts: dict[str, Any]
) -> None:
    objs = copy.deepcopy(overlays["prod"])
    settings = [
        o
        for o in objs
        if o["kind"] == "ConfigMap"
        and o["metadata"]["namespace"] == "streamflow"
        and "STREAMFLOW_PG_SSLMODE" in o.get("data", {})
    ]
    assert settings
    for cm in settings:
        cm["data"]["STREAMFLOW_PG_SSLMODE"] = "require"
    problems = conftest("manifests", facts, ["-"], yaml.safe_dump_all(objs))
    clients = {p.split(":")[0] for p in problems}
    assert clients == {
        "[k8s.postgres] Deployment streamflow/alert-api",
        "[k8s.postgres] Deployment streamflow/generator",
        "[k8s.postgres] Deployment streamflow/ingestor",
        "[k8s.postgres] Deployment streamflow/mlflow",
    }
