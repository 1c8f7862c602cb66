"""Every image has a Dockerfile, and hadolint finds nothing in any of them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from scripts.k8s.paths import REPO_ROOT
from tests.deploy.checks import check

IMAGES = [
    "services/generator/Dockerfile",
    "services/fraud-scorer/Dockerfile",
    "services/ingestor/Dockerfile",
    "services/alert-api/Dockerfile",
    "airflow/Dockerfile",
    "infra/mlflow/Dockerfile",
    "tests/deploy/test-runner.Dockerfile",
]


def test_every_image_has_a_dockerfile() -> None:
    """scripts/k8s/check.sh lints these globs."""
    found = [*REPO_ROOT.glob("services/*/Dockerfile"), REPO_ROOT / "airflow" / "Dockerfile"]
    found += [*REPO_ROOT.glob("infra/*/Dockerfile"), *REPO_ROOT.glob("tests/deploy/*.Dockerfile")]
    assert sorted(str(p.relative_to(REPO_ROOT)) for p in found if p.is_file()) == sorted(IMAGES)


def test_hadolint() -> None:
    result = check("dockerfiles", *IMAGES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", IMAGES)
def test_final_stage_is_unprivileged(dockerfile: str) -> None:
    lines = (REPO_ROOT / dockerfile).read_text().splitlines()
    final = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users, "the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert not any(word in " ".join(final) for word in ("build-essential", "gcc", "uv sync"))


def test_service_builds_sync_one_package_from_the_root_lock() -> None:
    for name, dist in [
        ("generator", "streamflow-generator"),
        ("ingestor", "streamflow-ingestor"),
        ("alert-api", "streamflow-alert-api"),
    ]:
        text = Path(REPO_ROOT / "services" / name / "Dockerfile").read_text()
        assert f"uv sync --frozen --no-dev --no-editable --package {dist}" in text
        assert "HEALTHCHECK" in text


def test_scorer_image_copies_every_path_dependency_of_the_scorer_project() -> None:
    scorer = REPO_ROOT / "services" / "fraud-scorer"
    sources = tomllib.loads((scorer / "pyproject.toml").read_text())
    paths = [s["path"] for s in sources["tool"]["uv"]["sources"].values() if "path" in s]
    copied = [
        line.split()[1].rstrip("/")
        for line in (REPO_ROOT / "services" / "fraud-scorer" / "Dockerfile")
        .read_text()
        .splitlines()
        if line.startswith("COPY ") and "--from" not in line
    ]
    for path in paths:
        target = str((scorer / path).resolve().relative_to(REPO_ROOT))
        assert any(target == c or target.startswith(c + "/") for c in copied), target


def test_service_builds_copy_every_workspace_member_manifest() -> None:
    """uv resolves the whole workspace even for one package: every member's pyproject is needed."""
    members = sorted(
        str(p.parent.relative_to(REPO_ROOT))
        for pattern in ("packages/*/pyproject.toml", "services/*/pyproject.toml")
        for p in REPO_ROOT.glob(pattern)
    )
    for name in ("generator", "ingestor", "alert-api"):
        text = (REPO_ROOT / "services" / name / "Dockerfile").read_text()
        for member in members:
            assert f"COPY {member}/pyproject.toml {member}/" in text, (name, member)


@pytest.mark.parametrize(
    ("model", "setting"),
    [
        ("models/anomaly-iforest.npz", "STREAMFLOW_SCORER_MODEL_PATH"),
        ("models/fraud-gbdt.npz", "STREAMFLOW_SCORER_SUPERVISED_MODEL_PATH"),
    ],
)
def test_scorer_image_ships_its_models_and_points_the_job_at_them(model: str, setting: str) -> None:
    text = (REPO_ROOT / "services" / "fraud-scorer" / "Dockerfile").read_text()
    assert (REPO_ROOT / model).is_file()
    lines = text.splitlines()
    [copy] = [line.split() for line in lines if line.startswith("COPY ") and model in line]
    assert copy[-2] == model
    assert f"{setting}={copy[-1]}" in text
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert not any(line.strip().startswith(("models", "*.npz", "**/*.npz")) for line in ignored)


def test_mlflow_image_runs_the_locked_server_through_its_entrypoint() -> None:
    """The registry image (docs/adr/0115): envs/mlflow's lock, the entrypoint, a health check."""
    text = (REPO_ROOT / "infra" / "mlflow" / "Dockerfile").read_text()
    assert "COPY envs/mlflow/pyproject.toml envs/mlflow/uv.lock ./" in text
    assert "uv sync --frozen --no-dev" in text
    assert 'ENTRYPOINT ["/opt/mlflow/entrypoint.sh"]' in text
    assert "/health" in text
    entrypoint = REPO_ROOT / "infra" / "mlflow" / "entrypoint.sh"
    assert entrypoint.stat().st_mode & 0o111, "the entrypoint must be executable"
    script = entrypoint.read_text()
    # the password reaches libpq through the environment, never the URI or a command line
    assert "PGPASSWORD=" in script
    assert "unset STREAMFLOW_MLFLOW_PG_PASSWORD" in script
    assert ":$STREAMFLOW_MLFLOW_PG_PASSWORD@" not in script
    # PID 1 hands SIGTERM to the server (which would ignore it as PID 1): quick, clean rollouts
    assert 'trap \'kill -TERM "$server"' in script
    assert "exec mlflow" not in script
