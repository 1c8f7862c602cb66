package k8s.containers_test

import data.k8s.containers
import data.lib.testing
import rego.v1

exception(obj, rule, reason) := json.patch(obj, [{
	"op": "add",
	"path": "/metadata/annotations",
	"value": {concat("", ["exceptions.streamflow.io/", rule]): reason},
}])

test_hardened_container_passes if {
	count(containers.deny) == 0 with input as testing.combined([testing.deployment])
}

test_every_missing_hardening_fails if {
	bare := testing.with_container({"resources": {"requests": {"cpu": "1"}}, "securityContext": {"runAsUser": 0}})
	containers.deny == {
		"Deployment apps/api container api: needs requests and limits for cpu and memory",
		"Deployment apps/api container api: needs a user other than root (runAsUser: 0)",
		"Deployment apps/api container api: needs allowPrivilegeEscalation: false",
		"Deployment apps/api container api: needs capabilities.drop: [ALL]",
		"Deployment apps/api container api: needs readOnlyRootFilesystem: true",
	} with input as testing.combined([bare])
}

test_a_pod_without_run_as_non_root_fails if {
	root := json.patch(testing.deployment, [{"op": "remove", "path": "/spec/template/spec/securityContext"}])
	containers.deny == {"Deployment apps/api container api: needs runAsNonRoot: true"} with input as testing.combined([root])
}

test_an_exception_with_its_reason_passes if {
	writable := testing.with_container({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}})
	excepted := exception(writable, "read-only-root-filesystem", "the runtime unpacks its code into its install dir")
	count(containers.deny) == 0 with input as testing.combined([excepted])
}

test_an_exception_without_a_reason_fails if {
	writable := testing.with_container({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}})
	excepted := exception(writable, "read-only-root-filesystem", "needed")
	containers.deny == {
		"Deployment apps/api container api: needs readOnlyRootFilesystem: true",
		"Deployment apps/api: exception exceptions.streamflow.io/read-only-root-filesystem needs a reason (20 characters at least)",
	} with input as testing.combined([excepted])
}

test_flink_pod_containers_are_checked if {
	flink := {
		"kind": "FlinkDeployment",
		"metadata": {"name": "job", "namespace": "apps"},
		"spec": {"podTemplate": {"spec": {
			"securityContext": {"runAsNonRoot": true},
			"containers": [{"name": "flink-main-container", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
		}}},
	}
	containers.deny == {"FlinkDeployment apps/job container flink-main-container: needs readOnlyRootFilesystem: true"} with input as testing.combined([flink])
}
