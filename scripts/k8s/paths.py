"""Where the deployment artefacts live, and the Kubernetes version they target."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE_DIR = REPO_ROOT / "k8s" / "kustomize"
OVERLAYS = ("dev", "prod")
COMPOSE_FILE = REPO_ROOT / "docker-compose.test.yml"
# K3s release line the manifests are written for; kubernetes-validate ships its schemas.
KUBERNETES_VERSION = "1.34.0"


def crds_dir() -> Path:
    """CRDs copied into the repository, or `STREAMFLOW_CRDS_DIR` when set."""
    return Path(os.environ.get("STREAMFLOW_CRDS_DIR") or REPO_ROOT / "k8s" / "crds")


def overlay_dir(name: str) -> Path:
    return KUSTOMIZE_DIR / "overlays" / name
