package k8s.probes_test

import data.k8s.probes
import data.lib.testing
import rego.v1

test_health_probes_pass if {
	count(probes.deny) == 0 with input as testing.combined([testing.deployment])
}

test_missing_probes_and_metrics_probes_fail if {
	metrics := json.patch(testing.deployment, [
		{"op": "remove", "path": "/spec/template/spec/containers/0/livenessProbe"},
		{"op": "replace", "path": "/spec/template/spec/containers/0/readinessProbe/httpGet/path", "value": "/metrics"},
	])
	probes.deny == {
		"Deployment apps/api container api: needs a livenessProbe",
		"Deployment apps/api container api: readinessProbe asks /metrics; point it at a health endpoint",
	} with input as testing.combined([metrics])
}

test_metrics_probes_fail_even_with_an_annotation if {
	metrics := json.patch(testing.deployment, [
		{"op": "replace", "path": "/spec/template/spec/containers/0/readinessProbe/httpGet/path", "value": "/metrics"},
		{"op": "add", "path": "/metadata/annotations", "value": {"exceptions.streamflow.io/health-probes": "serves no health endpoint yet (issue 99)"}},
	])
	count(probes.deny) == 1 with input as testing.combined([metrics])
}

test_run_to_completion_pods_need_no_probes if {
	pod := json.patch(testing.deployment.spec.template, [
		{"op": "remove", "path": "/spec/containers/0/livenessProbe"},
		{"op": "remove", "path": "/spec/containers/0/readinessProbe"},
	])
	job := {
		"apiVersion": "batch/v1", "kind": "CronJob",
		"metadata": {"name": "copy", "namespace": "apps"},
		"spec": {"schedule": "*/15 * * * *", "jobTemplate": {"spec": {"template": pod}}},
	}
	count(probes.deny) == 0 with input as testing.combined([job])
}
