# The scorer's FlinkDeployment: non-root pods, sized JobManager and TaskManagers, RocksDB state
# with a checkpoint directory, savepoint upgrades (its containers' hardening: k8s.containers).
package k8s.flink

import data.lib.k8s
import rego.v1

deny contains msg if {
	some [obj, rule] in missing
	msg := sprintf("%s: needs %s", [k8s.describe(obj), rule])
}

flink_deployments contains obj if {
	some obj in k8s.objects
	obj.kind == "FlinkDeployment"
}

missing contains [obj, "podTemplate runAsNonRoot: true"] if {
	some obj in flink_deployments
	not obj.spec.podTemplate.spec.securityContext.runAsNonRoot == true
}

missing contains [obj, "jobManager/taskManager resource"] if {
	some obj in flink_deployments
	some role in ["jobManager", "taskManager"]
	not obj.spec[role].resource
}

missing contains [obj, "state.backend.type: rocksdb"] if {
	some obj in flink_deployments
	not obj.spec.flinkConfiguration["state.backend.type"] == "rocksdb"
}

missing contains [obj, "a checkpoint directory"] if {
	some obj in flink_deployments
	not obj.spec.flinkConfiguration["execution.checkpointing.dir"]
}

missing contains [obj, "job.upgradeMode: savepoint"] if {
	some obj in flink_deployments
	not obj.spec.job.upgradeMode == "savepoint"
}
