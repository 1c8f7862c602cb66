# Every namespace that runs pods has a default-deny NetworkPolicy (empty pod selector, Ingress and
# Egress, no rules); allow-lists sit on top of it.
package k8s.network

import data.lib.k8s
import rego.v1

deny contains msg if {
	some ns in {p.obj.metadata.namespace | some p in k8s.pods}
	not denied(ns)
	msg := sprintf("namespace %s: no default-deny NetworkPolicy", [ns])
}

denied(ns) if {
	some np in k8s.objects
	np.kind == "NetworkPolicy"
	np.metadata.namespace == ns
	count(object.get(np.spec, "podSelector", {})) == 0
	every t in ["Ingress", "Egress"] {
		t in np.spec.policyTypes
	}
	count(object.get(np.spec, "ingress", [])) == 0
	count(object.get(np.spec, "egress", [])) == 0
}
