package k8s.kafka_test

import data.k8s.kafka
import data.lib.testing
import rego.v1

facts := {"workloads": {"Deployment/api": {"kafka": [
	{"resource": "topic", "operation": "Read", "env": "STREAMFLOW_TOPIC_IN", "default": "in"},
	{"resource": "topic", "operation": "Write", "env": "STREAMFLOW_TOPIC_OUT", "default": "out"},
	{"resource": "group", "operation": "Read", "env": "STREAMFLOW_API_GROUP_ID", "default": "api"},
	{"resource": "transactionalId", "operation": "Write", "env": "STREAMFLOW_API_TX", "default": "api-tx", "prefix": true},
]}}}

cluster := {"kind": "Kafka", "metadata": {"name": "k", "namespace": "apps"}, "spec": {"kafka": {"authorization": {"type": "simple"}}}}

settings := {"kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "apps"}, "data": {"STREAMFLOW_TOPIC_OUT": "renamed.out"}}

client := testing.with_container({
	"env": [{"name": "STREAMFLOW_KAFKA_SASL_USERNAME", "value": "api"}],
	"envFrom": [{"configMapRef": {"name": "settings"}}],
})

user(acls) := {"kind": "KafkaUser", "metadata": {"name": "api", "namespace": "apps"}, "spec": {"authorization": {"type": "simple", "acls": acls}}}

acl(type, name, pattern, operations) := {"resource": {"type": type, "name": name, "patternType": pattern}, "operations": operations}

test_acls_covering_every_use_pass if {
	covering := user([
		acl("topic", "in", "literal", ["Read", "Describe"]),
		acl("topic", "renamed.", "prefix", ["All"]),
		acl("group", "ap", "prefix", ["Read"]),
		acl("transactionalId", "api", "prefix", ["Write"]),
	])
	count(kafka.deny) == 0 with input as testing.combined([cluster, settings, client, covering])
		with data.streamflow as facts
}

test_missing_acls_fail if {
	partial := user([
		acl("topic", "in", "literal", ["Describe"]),
		acl("topic", "out", "literal", ["Write"]),
		acl("transactionalId", "api-tx", "literal", ["Write"]),
	])
	kafka.deny == {
		"KafkaUser api: no Read on topic in, which Deployment apps/api uses (STREAMFLOW_TOPIC_IN)",
		"KafkaUser api: no Write on topic renamed.out, which Deployment apps/api uses (STREAMFLOW_TOPIC_OUT)",
		"KafkaUser api: no Read on group api, which Deployment apps/api uses (STREAMFLOW_API_GROUP_ID)",
		"KafkaUser api: no Write on transactionalId api-tx, which Deployment apps/api uses (STREAMFLOW_API_TX)",
	} with input as testing.combined([cluster, settings, client, partial])
		with data.streamflow as facts
}

test_a_client_without_a_user_fails if {
	anonymous := testing.with_container({"env": []})
	kafka.deny == {"Deployment apps/api: uses Kafka, which authorizes clients, but sets no STREAMFLOW_KAFKA_SASL_USERNAME"} with input as testing.combined([cluster, anonymous])
		with data.streamflow as facts
	kafka.deny == {"Deployment apps/api: authenticates as KafkaUser api, which the overlay does not define"} with input as testing.combined([cluster, client])
		with data.streamflow as facts
}

test_no_authorization_no_check if {
	count(kafka.deny) == 0 with input as testing.combined([client]) with data.streamflow as facts
}

# A chart the facts name (Airflow) is a client too: its values' env and extraEnvFrom (ConfigMaps
# of its target namespace); its KafkaUser lives in the Kafka cluster's namespace.
chart_facts := {"workloads": {"HelmChart/airflow": {"kafka": [
	{"resource": "topic", "operation": "Write", "env": "STREAMFLOW_TOPIC_FRAUD_MODELS", "default": "fraud.models"},
]}}}

chart := {"kind": "HelmChart", "metadata": {"name": "airflow", "namespace": "kube-system"}, "spec": {
	"targetNamespace": "airflow",
	"valuesContent": "env:\n  - {name: DO_NOT_TRACK, value: \"1\"}\nextraEnvFrom: |\n  - configMapRef:\n      name: training\n",
}}

training := {"kind": "ConfigMap", "metadata": {"name": "training", "namespace": "airflow"}, "data": {"STREAMFLOW_KAFKA_SASL_USERNAME": "trainer"}}

trainer(operations) := {"kind": "KafkaUser", "metadata": {"name": "trainer", "namespace": "apps"}, "spec": {"authorization": {
	"type": "simple",
	"acls": [acl("topic", "fraud.models", "literal", operations)],
}}}

test_a_chart_publishing_needs_write if {
	count(kafka.deny) == 0 with input as testing.combined([cluster, chart, training, trainer(["Write", "Describe"])])
		with data.streamflow as chart_facts
	kafka.deny == {"KafkaUser trainer: no Write on topic fraud.models, which HelmChart kube-system/airflow uses (STREAMFLOW_TOPIC_FRAUD_MODELS)"} with input as testing.combined([cluster, chart, training, trainer(["Describe"])])
		with data.streamflow as chart_facts
	kafka.deny == {"HelmChart kube-system/airflow: uses Kafka, which authorizes clients, but sets no STREAMFLOW_KAFKA_SASL_USERNAME"} with input as testing.combined([cluster, chart])
		with data.streamflow as chart_facts
}
