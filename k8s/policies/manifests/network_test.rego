package k8s.network_test

import data.k8s.network
import data.lib.testing
import rego.v1

test_namespace_with_default_deny_passes if {
	count(network.deny) == 0 with input as testing.combined([testing.deployment, testing.default_deny])
}

test_ingress_only_or_allowing_policy_fails if {
	ingress_only := json.patch(testing.default_deny, [{"op": "replace", "path": "/spec/policyTypes", "value": ["Ingress"]}])
	allowing := json.patch(testing.default_deny, [{"op": "add", "path": "/spec/egress", "value": [{}]}])
	network.deny == {"namespace apps: no default-deny NetworkPolicy"} with input as testing.combined([testing.deployment, ingress_only, allowing])
}
