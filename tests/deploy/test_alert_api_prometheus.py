"""The alert API reaches Prometheus for its quality dashboard (ADR 0102): in both overlays its
URL setting points at kube-prometheus-stack's Prometheus service, and a NetworkPolicy lets the
API's pods (and only them) out to those Prometheus pods on that port."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from scripts.k8s.paths import OVERLAYS
from scripts.k8s.render import Manifest


def _one(objs: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} objects"
    return found[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_may_reach_the_prometheus_its_setting_names(
    overlays: dict[str, list[Manifest]], overlay: str
) -> None:
    objs = overlays[overlay]
    [container] = _one(objs, "Deployment", "alert-api")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    url = urlsplit(env["STREAMFLOW_API_PROMETHEUS_URL"])
    assert url.scheme == "http"
    assert url.hostname == "kube-prometheus-stack-prometheus.monitoring.svc"
    policy = _one(objs, "NetworkPolicy", "allow-alert-api-prometheus-egress")
    assert policy["metadata"]["namespace"] == "streamflow"
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "alert-api"}}
    assert spec["policyTypes"] == ["Egress"]
    [rule] = spec["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": url.port}]
    [peer] = rule["to"]
    assert peer["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
    }
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "prometheus"
