"""The manifests set only environment variables the StreamFlow processes actually read."""

from __future__ import annotations

import copy

import pytest

from scripts.k8s import settings_env
from scripts.k8s.paths import OVERLAYS
from scripts.k8s.problems import Manifest


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_streamflow_variable_is_a_setting(
    overlay: str, overlays: dict[str, list[Manifest]]
) -> None:
    problems = settings_env.check_all(overlays[overlay])
    assert not problems, "\n".join(map(str, problems))


def test_a_misspelt_variable_is_caught(overlays: dict[str, list[Manifest]]) -> None:
    dep = copy.deepcopy(
        next(
            o
            for o in overlays["dev"]
            if o["kind"] == "Deployment" and o["metadata"]["name"] == "ingestor"
        )
    )
    dep["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "STREAMFLOW_INGESTOR_METRICS_PROT", "value": "1"}
    )
    problems = settings_env.check_all([dep])
    assert [p.message for p in problems] == [
        "sets STREAMFLOW_INGESTOR_METRICS_PROT, which it never reads"
    ]
