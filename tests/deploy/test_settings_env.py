"""The manifests set only environment variables the StreamFlow processes actually read
(k8s/policies/manifests/settings.rego, with the names from scripts/k8s/facts.py)."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from scripts.k8s.render import Manifest
from tests.deploy.checks import conftest


def test_a_misspelt_variable_is_caught(
    overlays: dict[str, list[Manifest]], facts: dict[str, Any]
) -> None:
    objs = copy.deepcopy(overlays["dev"])
    [dep] = [o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "ingestor"]
    dep["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "STREAMFLOW_INGESTOR_METRICS_PROT", "value": "1"}
    )
    assert conftest("manifests", facts, ["-"], yaml.safe_dump_all(objs)) == [
        "[k8s.settings] Deployment streamflow/ingestor: sets STREAMFLOW_INGESTOR_METRICS_PROT,"
        " which it never reads"
    ]
