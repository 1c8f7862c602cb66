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
	object.get(cm.metadata, "namespace", "") == pods_namespace(obj)
	value := cm.data[name]
}

# Where an object's pods run: a HelmChart's in its target namespace, others' in their own.
pods_namespace(obj) := obj.spec.targetNamespace if {
	obj.kind == "HelmChart"
} else := object.get(obj.metadata, "namespace", "")

# The pods of a HelmChart that facts name (the Airflow chart: the model_training DAG runs the
# trainer in them), as far as settings go: one container with the values' `env` and
# `extraEnvFrom` (a YAML string in the official chart) and, like every chart pod, `volumes` and
# `volumeMounts`. {obj, pod}, as k8s.pods; not in k8s.pods, whose other checks (resources,
# probes) are the chart's business.
chart_pods contains {"obj": obj, "pod": pod, "builtin": false} if {
	some obj in k8s.objects
	obj.kind == "HelmChart"
	facts(obj)
	values := yaml.unmarshal(object.get(obj.spec, "valuesContent", "{}"))
	pod := {
		"containers": [{
			"name": obj.metadata.name,
			"env": object.get(values, "env", []),
			"envFrom": env_from(object.get(values, "extraEnvFrom", [])),
			"volumeMounts": object.get(values, "volumeMounts", []),
		}],
		"volumes": object.get(values, "volumes", []),
	}
}

env_from(value) := yaml.unmarshal(value) if is_string(value)

env_from(value) := value if not is_string(value)

# A setting's value in a pod: what the manifest sets, else the settings class's default.
setting(obj, pod, use) := value if {
	value := env_value(obj, pod, use.env)
} else := use.default
