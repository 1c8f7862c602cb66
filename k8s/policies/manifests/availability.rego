# Every Deployment is covered by a PodDisruptionBudget in its namespace, and in prod (objects
# labelled streamflow.io/environment: prod) runs two replicas at least, HPA floor included.
package k8s.availability

import data.lib.k8s
import rego.v1

deny contains msg if {
	some dep in k8s.objects
	dep.kind == "Deployment"
	labels := object.get(dep.spec, ["template", "metadata", "labels"], {})
	not covered(dep.metadata.namespace, labels)
	msg := sprintf("%s: no PodDisruptionBudget selects its pods", [k8s.describe(dep)])
}

covered(namespace, labels) if {
	some pdb in k8s.objects
	pdb.kind == "PodDisruptionBudget"
	pdb.metadata.namespace == namespace
	wanted := object.get(pdb.spec, ["selector", "matchLabels"], {})
	count(wanted) > 0
	every key, value in wanted {
		labels[key] == value
	}
}

deny contains msg if {
	some obj in k8s.objects
	obj.metadata.labels["streamflow.io/environment"] == "prod"
	replicas := floor_of(obj)
	replicas < 2
	msg := sprintf("%s: %d replicas, want >= 2 in prod", [k8s.describe(obj), replicas])
}

floor_of(obj) := object.get(obj.spec, "replicas", 1) if obj.kind == "Deployment"

floor_of(obj) := object.get(obj.spec, "minReplicas", 1) if obj.kind == "HorizontalPodAutoscaler"
