# What the StreamFlow processes read, from the facts document `data.streamflow` that
# scripts/k8s/facts.py writes from the settings classes (`conftest test --data <facts.json>`).
package lib.settings

import data.lib.k8s
import rego.v1

# The facts of an object: data.streamflow.workloads["<kind>/<name>"].
facts(obj) := data.streamflow.workloads[concat("/", [obj.kind, obj.metadata.name])]

# The value a pod's main containers give an environment variable: a literal `env` entry, else
# the ConfigMap an `envFrom` names; undefined when neither sets it.
env_value(obj, pod, name) := value if {
	some c in pod.containers
	some e in c.env
	e.name == name
	value := e.value
} else := value if {
	some c in pod.containers
	some source in c.envFrom
	some cm in k8s.objects
	cm.kind == "ConfigMap"
	cm.metadata.name == source.configMapRef.name
	object.get(cm.metadata, "namespace", "") == object.get(obj.metadata, "namespace", "")
	value := cm.data[name]
}

# A setting's value in a pod: what the manifest sets, else the settings class's default.
setting(obj, pod, use) := value if {
	value := env_value(obj, pod, use.env)
} else := use.default
