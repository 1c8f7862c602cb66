"""promtool accepts every PrometheusRule and every dashboard query; the alerts the issue lists
exist."""

from __future__ import annotations

import pytest

from scripts.k8s import promrules
from scripts.k8s.paths import OVERLAYS
from scripts.k8s.render import Manifest

ALERTS = {
    "StreamFlowConsumerLagHigh",
    "StreamFlowFlinkJobDown",
    "StreamFlowFlinkCheckpointFailures",
    "StreamFlowDeadLettersHigh",
    "StreamFlowFraudRateAnomaly",
    "StreamFlowAlertApiErrorBudgetFastBurn",
    "StreamFlowAlertApiErrorBudgetSlowBurn",
}
DASHBOARDS = {"pipeline", "kafka", "flink", "fraud"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_promtool_check_rules(overlay: str, overlays: dict[str, list[Manifest]]) -> None:
    problems = promrules.check(overlays[overlay])
    assert not problems, "\n".join(problems)


def test_required_alerts_and_dashboards(overlays: dict[str, list[Manifest]]) -> None:
    objs = overlays["prod"]
    alerts = {
        rule["alert"]
        for o in objs
        if o["kind"] == "PrometheusRule"
        for group in o["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert alerts >= ALERTS
    dashboards = {
        key.removesuffix(".json")
        for o in objs
        if o["kind"] == "ConfigMap" and o["metadata"].get("labels", {}).get("grafana_dashboard")
        for key in o["data"]
    }
    assert dashboards == DASHBOARDS
