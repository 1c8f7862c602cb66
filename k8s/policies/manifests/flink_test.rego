package k8s.flink_test

import data.k8s.flink
import data.lib.testing
import rego.v1

job := {
	"kind": "FlinkDeployment",
	"metadata": {"name": "job", "namespace": "apps"},
	"spec": {
		"podTemplate": {"spec": {"securityContext": {"runAsNonRoot": true}}},
		"jobManager": {"resource": {"cpu": 0.5, "memory": "1024m"}},
		"taskManager": {"resource": {"cpu": 1, "memory": "2048m"}},
		"flinkConfiguration": {"state.backend.type": "rocksdb", "execution.checkpointing.dir": "file:///state/chk"},
		"job": {"upgradeMode": "savepoint"},
	},
}

test_savepoint_rocksdb_job_passes if {
	count(flink.deny) == 0 with input as testing.combined([job])
}

test_unsized_hashmap_last_state_job_fails if {
	bad := json.patch(job, [
		{"op": "remove", "path": "/spec/podTemplate"},
		{"op": "remove", "path": "/spec/taskManager"},
		{"op": "replace", "path": "/spec/flinkConfiguration", "value": {"state.backend.type": "hashmap"}},
		{"op": "replace", "path": "/spec/job/upgradeMode", "value": "last-state"},
	])
	flink.deny == {
		"FlinkDeployment apps/job: needs podTemplate runAsNonRoot: true",
		"FlinkDeployment apps/job: needs jobManager/taskManager resource",
		"FlinkDeployment apps/job: needs state.backend.type: rocksdb",
		"FlinkDeployment apps/job: needs a checkpoint directory",
		"FlinkDeployment apps/job: needs job.upgradeMode: savepoint",
	} with input as testing.combined([bad])
}
