# With Kafka authorization on, each StreamFlow process authenticates as a KafkaUser whose ACLs
# cover every topic, consumer group and transactional id its settings use (names resolved from
# the manifest's env, else the settings' defaults; the uses come from scripts/k8s/facts.py). Airflow's
# chart counts as a client: the model_training DAG publishes model releases (KafkaUser model-training).
# Read/Write imply Describe in Kafka's authorizer, so Describe is not asked for separately.
package k8s.kafka

import data.lib.k8s
import data.lib.settings
import rego.v1

authorizing if some _ in kafka_namespaces

# Strimzi's User Operator reads the KafkaUsers of its cluster's namespace, wherever the client runs.
kafka_namespaces contains object.get(obj.metadata, "namespace", "") if {
	some obj in k8s.objects
	obj.kind == "Kafka"
	obj.spec.kafka.authorization.type == "simple"
}

# Pods of the manifests and of the charts the facts name (Airflow: the model_training DAG).
clients contains p if {
	authorizing
	some p in (k8s.pods | settings.chart_pods)
	count(object.get(settings.facts(p.obj), "kafka", [])) > 0
}

username(p) := settings.env_value(p.obj, p.pod, "STREAMFLOW_KAFKA_SASL_USERNAME")

user(p) := u if {
	some u in k8s.objects
	u.kind == "KafkaUser"
	u.metadata.name == username(p)
	object.get(u.metadata, "namespace", "") in kafka_namespaces
}

deny contains msg if {
	some p in clients
	not username(p)
	msg := sprintf("%s: uses Kafka, which authorizes clients, but sets no STREAMFLOW_KAFKA_SASL_USERNAME", [k8s.describe(p.obj)])
}

deny contains msg if {
	some p in clients
	name := username(p)
	not user(p)
	msg := sprintf("%s: authenticates as KafkaUser %s, which the overlay does not define", [k8s.describe(p.obj), name])
}

deny contains msg if {
	some p in clients
	u := user(p)
	some use in settings.facts(p.obj).kafka
	name := settings.setting(p.obj, p.pod, use)
	not allowed(u, use, name)
	msg := sprintf("KafkaUser %s: no %s on %s %s, which %s uses (%s)", [
		u.metadata.name, use.operation, use.resource, name, k8s.describe(p.obj), use.env,
	])
}

allowed(u, use, name) if {
	some acl in u.spec.authorization.acls
	acl.resource.type == use.resource
	covers(acl.resource, name, object.get(use, "prefix", false))
	grants(acl, use.operation)
}

# A literal name (or "*") covers one name; a prefix pattern covers every name it starts. A use
# that is itself a prefix (transactional ids: prefix + per-sink suffix) needs a prefix pattern.
covers(resource, name, false) if {
	object.get(resource, "patternType", "literal") == "literal"
	resource.name in {name, "*"}
}

covers(resource, name, _) if {
	resource.patternType == "prefix"
	startswith(name, resource.name)
}

grants(acl, operation) if operation in object.get(acl, "operations", [])

grants(acl, _) if "All" in object.get(acl, "operations", [])

grants(acl, operation) if acl.operation in {operation, "All"}
