package compose_test

import data.compose
import rego.v1

facts := {"compose": {"services": {
	"api": {"env": ["STREAMFLOW_API_PORT"], "errors": [], "missing_paths": []},
	"db": {"env": [], "errors": [], "missing_paths": []},
}}}

file(services) := [{"path": "compose.yml", "contents": {"services": services}}]

api := {"build": {"context": "."}, "x-streamflow-settings": ["m:Settings"], "environment": {"STREAMFLOW_API_PORT": "8000"}, "depends_on": ["db"]}

test_pinned_built_and_known_passes if {
	count(compose.deny) == 0 with input as file({"api": api, "db": {"image": "postgres:15.14"}})
		with data.streamflow as facts
}

test_broken_services_fail if {
	bad_facts := json.patch(facts, [{"op": "replace", "path": "/compose/services/api/missing_paths", "value": ["no/Dockerfile"]}])
	bad_api := object.union(api, {"environment": ["STREAMFLOW_API_PROT=1"], "depends_on": {"cache": {}}})
	compose.deny == {
		"api: no/Dockerfile does not exist",
		"api: sets STREAMFLOW_API_PROT, which no settings class of the service reads",
		"api: depends on unknown service cache",
		"db: image 'postgres' has a floating tag",
		"worker: neither image nor build",
	} with input as file({"api": bad_api, "db": {"image": "postgres"}, "worker": {}})
		with data.streamflow as bad_facts
}

test_a_build_without_settings_fails if {
	compose.deny == {"api: built from this repo but declares no x-streamflow-settings"} with input as file({"api": {"build": "."}})
		with data.streamflow as facts
}
