package k8s.settings_test

import data.k8s.settings
import data.lib.testing
import rego.v1

facts := {"workloads": {
	"Deployment/api": {"env": ["STREAMFLOW_API_PORT"]},
	"ConfigMap/shared": {"env": ["STREAMFLOW_PROFILE"]},
}}

api(name) := testing.with_container({"env": [{"name": name, "value": "1"}, {"name": "OTHER", "value": "x"}]})

shared(name) := {"kind": "ConfigMap", "metadata": {"name": "shared", "namespace": "apps"}, "data": {name: "prod"}}

test_variables_the_settings_read_pass if {
	count(settings.deny) == 0 with input as testing.combined([api("STREAMFLOW_API_PORT"), shared("STREAMFLOW_PROFILE")])
		with data.streamflow as facts
}

test_misspelt_or_unknown_variables_fail if {
	unknown := json.patch(api("STREAMFLOW_X"), [{"op": "replace", "path": "/metadata/name", "value": "worker"}])
	settings.deny == {
		"Deployment apps/api: sets STREAMFLOW_API_PROT, which it never reads",
		"ConfigMap apps/shared: sets STREAMFLOW_PROFIL, which it never reads",
		"Deployment apps/worker: sets STREAMFLOW_X but scripts/k8s/facts.py names no settings for it",
	} with input as testing.combined([api("STREAMFLOW_API_PROT"), shared("STREAMFLOW_PROFIL"), unknown])
		with data.streamflow as facts
}
