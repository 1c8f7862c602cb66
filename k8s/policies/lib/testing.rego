# Test helpers: wrap fixture objects the way `conftest test --combine` presents files.
package lib.testing

import rego.v1

combined(objs) := [{"path": "fixture.yaml", "contents": obj} | some obj in objs]

# A hardened Deployment (passes every manifest policy); tests patch one thing out of it.
deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "apps"},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app": "api"}},
		"template": {
			"metadata": {"labels": {"app": "api"}},
			"spec": {
				"securityContext": {"runAsNonRoot": true, "runAsUser": 10001},
				"containers": [{
					"name": "api",
					"image": "example/api:1.2.3",
					"resources": {
						"requests": {"cpu": "100m", "memory": "128Mi"},
						"limits": {"cpu": "1", "memory": "256Mi"},
					},
					"livenessProbe": {"httpGet": {"path": "/healthz", "port": 8000}},
					"readinessProbe": {"httpGet": {"path": "/readyz", "port": 8000}},
					"securityContext": {
						"allowPrivilegeEscalation": false,
						"readOnlyRootFilesystem": true,
						"capabilities": {"drop": ["ALL"]},
					},
				}],
			},
		},
	},
}

pdb := {
	"kind": "PodDisruptionBudget",
	"metadata": {"name": "api", "namespace": "apps"},
	"spec": {"selector": {"matchLabels": {"app": "api"}}},
}

default_deny := {
	"kind": "NetworkPolicy",
	"metadata": {"name": "default-deny", "namespace": "apps"},
	"spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}

# The deployment with the top-level fields of its container replaced by those of `patch`.
with_container(patch) := json.patch(deployment, [op |
	some key, value in patch
	op := {"op": "add", "path": concat("/", ["/spec/template/spec/containers/0", key]), "value": value}
])
