package k8s.availability_test

import data.k8s.availability
import data.lib.testing
import rego.v1

prod(obj) := json.patch(obj, [{"op": "add", "path": "/metadata/labels", "value": {"streamflow.io/environment": "prod"}}])

hpa(floor) := {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "api", "namespace": "apps", "labels": {"streamflow.io/environment": "prod"}}, "spec": {"minReplicas": floor}}

test_covered_replicated_deployment_passes if {
	count(availability.deny) == 0 with input as testing.combined([prod(testing.deployment), testing.pdb, hpa(2)])
}

test_uncovered_single_replica_prod_deployment_fails if {
	single := json.patch(prod(testing.deployment), [{"op": "replace", "path": "/spec/replicas", "value": 1}])
	other := json.patch(testing.pdb, [{"op": "replace", "path": "/metadata/namespace", "value": "elsewhere"}])
	availability.deny == {
		"Deployment apps/api: no PodDisruptionBudget selects its pods",
		"Deployment apps/api: 1 replicas, want >= 2 in prod",
		"HorizontalPodAutoscaler apps/api: 1 replicas, want >= 2 in prod",
	} with input as testing.combined([single, other, hpa(1)])
}

test_single_replica_outside_prod_passes if {
	single := json.patch(testing.deployment, [{"op": "replace", "path": "/spec/replicas", "value": 1}])
	count(availability.deny) == 0 with input as testing.combined([single, testing.pdb])
}
