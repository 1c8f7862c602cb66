# Every STREAMFLOW_* variable a manifest gives a StreamFlow process is one its settings read (a
# misspelt or stale name would be ignored silently by pydantic-settings). The names each process
# reads come from the facts document (scripts/k8s/facts.py).
package k8s.settings

import data.lib.k8s
import data.lib.settings
import rego.v1

deny contains msg if {
	some obj in k8s.objects
	facts := settings.facts(obj)
	known := {name | some name in facts.env}
	some name in set_names(obj)
	startswith(name, "STREAMFLOW_")
	not name in known
	msg := sprintf("%s: sets %s, which it never reads", [k8s.describe(obj), name])
}

deny contains msg if {
	some p in k8s.pods
	not settings.facts(p.obj)
	some name in set_names(p.obj)
	startswith(name, "STREAMFLOW_")
	msg := sprintf("%s: sets %s but scripts/k8s/facts.py names no settings for it", [k8s.describe(p.obj), name])
}

set_names(obj) := {name | some name, _ in obj.data} if obj.kind == "ConfigMap"

set_names(obj) := {e.name | some p in k8s.pods; p.obj == obj; some c in p.pod.containers; some e in c.env} if {
	obj.kind != "ConfigMap"
}
