package k8s.postgres_test

import data.k8s.postgres
import data.lib.testing
import rego.v1

cluster := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "Cluster",
	"metadata": {"name": "pg", "namespace": "apps"},
	"spec": {
		"bootstrap": {"initdb": {"owner": "owner", "secret": {"name": "pg-owner"}}},
		"managed": {"roles": [
			{"name": "owner", "login": true, "passwordSecret": {"name": "pg-owner"}},
			{"name": "api", "login": true, "passwordSecret": {"name": "pg-api"}},
		]},
	},
}

settings(profile, mode) := {"kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "apps"}, "data": {
	"STREAMFLOW_PROFILE": profile,
	"STREAMFLOW_PG_SSLMODE": mode,
	"STREAMFLOW_PG_SSLROOTCERT": "/etc/pg-ca/ca.crt",
}}

password(secret) := {"name": "STREAMFLOW_API_PG_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}

client(secret, ca_secret) := object.union(testing.deployment, {"spec": {"template": {
	"metadata": {"labels": {"app": "api", "streamflow.io/postgres-client": "true"}},
	"spec": {
		"containers": [object.union(testing.deployment.spec.template.spec.containers[0], {
			"env": [password(secret)],
			"envFrom": [{"configMapRef": {"name": "settings"}}],
			"volumeMounts": [{"name": "pg-ca", "mountPath": "/etc/pg-ca", "readOnly": true}],
		})],
		"volumes": [{"name": "pg-ca", "secret": {"secretName": ca_secret, "items": [{"key": "ca.crt", "path": "ca.crt"}]}}],
	},
}}})

test_own_role_verifying_the_server_passes if {
	count(postgres.deny) == 0 with input as testing.combined([cluster, settings("prod", "verify-full"), client("pg-api", "pg-ca")])
}

test_dev_needs_no_verification if {
	count(postgres.deny) == 0 with input as testing.combined([cluster, settings("dev", "require"), client("pg-api", "other")])
}

test_the_owners_secret_fails if {
	postgres.deny == {"Deployment apps/api: STREAMFLOW_API_PG_PASSWORD comes from pg-owner, the database owner's secret; a service logs in as its own role"} with input as testing.combined([cluster, settings("prod", "verify-full"), client("pg-owner", "pg-ca")])
}

test_a_secret_of_no_managed_role_fails if {
	postgres.deny == {"Deployment apps/api: STREAMFLOW_API_PG_PASSWORD comes from pg-other, which is no login role's passwordSecret in the Cluster's managed roles"} with input as testing.combined([cluster, settings("prod", "verify-full"), client("pg-other", "pg-ca")])
}

test_prod_without_verify_full_or_the_cluster_ca_fails if {
	postgres.deny == {
		"Deployment apps/api: STREAMFLOW_PG_SSLMODE is require in prod; verify-full checks the server",
		"Deployment apps/api: STREAMFLOW_PG_SSLROOTCERT must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod",
	} with input as testing.combined([cluster, settings("prod", "require"), client("pg-api", "kafka-ca")])
}

test_a_client_without_a_password_secret_fails if {
	bare := object.union(testing.deployment, {"spec": {"template": {"metadata": {"labels": {"app": "api", "streamflow.io/postgres-client": "true"}}}}})
	postgres.deny == {"Deployment apps/api: a PostgreSQL client without a password from a Secret (STREAMFLOW_<SERVICE>_PG_PASSWORD)"} with input as testing.combined([cluster, bare])
}

test_an_unlabelled_pod_with_a_password_fails if {
	labelled := client("pg-api", "pg-ca")
	unlabelled := json.patch(labelled, [{"op": "replace", "path": "/spec/template/metadata/labels", "value": {"app": "api"}}])
	postgres.deny == {"Deployment apps/api: gets STREAMFLOW_API_PG_PASSWORD from pg-api but is no PostgreSQL client (label streamflow.io/postgres-client)"} with input as testing.combined([cluster, settings("prod", "verify-full"), unlabelled])
}

# A chart the facts name (Airflow, in its own namespace) that sets STREAMFLOW_PG_HOST: its DAGs'
# sslmode/CA and libpq's defaults (its metadata database) come from a ConfigMap of its namespace;
# the CA Secret is a copy a CronJob labelled streamflow.io/ca-copy writes there (docs/adr/0106).
chart_facts := {"workloads": {"HelmChart/airflow": {"kafka": [], "env": []}}}

chart(labels) := {"kind": "HelmChart", "metadata": {"name": "airflow", "namespace": "kube-system", "labels": labels}, "spec": {
	"targetNamespace": "airflow",
	"valuesContent": concat("\n", [
		"env:",
		"  - {name: STREAMFLOW_PG_HOST, value: pg-rw.apps.svc}",
		"extraEnvFrom: |",
		"  - configMapRef:",
		"      name: airflow-postgres",
		"volumes:",
		"  - name: pg-ca",
		"    secret: {secretName: pg-ca, optional: true, items: [{key: ca.crt, path: ca.crt}]}",
		"volumeMounts:",
		"  - {name: pg-ca, mountPath: /etc/pg-ca, readOnly: true}",
		"",
	]),
}}

prod_chart := chart({"streamflow.io/environment": "prod"})

airflow_pg(values) := {"kind": "ConfigMap", "metadata": {"name": "airflow-postgres", "namespace": "airflow"}, "data": values}

verifying := {
	"STREAMFLOW_PG_SSLMODE": "verify-full",
	"STREAMFLOW_PG_SSLROOTCERT": "/etc/pg-ca/ca.crt",
	"PGSSLMODE": "verify-full",
	"PGSSLROOTCERT": "/etc/pg-ca/ca.crt",
}

ca_copy(targets) := {
	"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {
		"name": "pg-ca-copy", "namespace": "apps",
		"labels": {"streamflow.io/ca-copy": "true"},
	},
	"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{
		"name": "copy",
		"env": [{"name": "CA_SECRET", "value": "pg-ca"}, {"name": "CA_TARGET_NAMESPACES", "value": targets}],
	}]}}}}},
}

test_a_chart_verifying_against_the_copied_ca_passes if {
	count(postgres.deny) == 0 with input as testing.combined([cluster, prod_chart, airflow_pg(verifying), ca_copy("other, airflow")])
		with data.streamflow as chart_facts
}

test_a_chart_in_dev_needs_no_verification if {
	count(postgres.deny) == 0 with input as testing.combined([cluster, chart({}), airflow_pg({"STREAMFLOW_PG_SSLMODE": "require", "PGSSLMODE": "require"})])
		with data.streamflow as chart_facts
}

test_a_chart_with_require_in_prod_fails if {
	postgres.deny == {
		"HelmChart kube-system/airflow: STREAMFLOW_PG_SSLMODE is require in prod; verify-full checks the server",
		"HelmChart kube-system/airflow: PGSSLMODE is unset in prod; the chart's own connection (libpq's default) must use verify-full",
		"HelmChart kube-system/airflow: STREAMFLOW_PG_SSLROOTCERT must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod",
		"HelmChart kube-system/airflow: PGSSLROOTCERT must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod",
	} with input as testing.combined([cluster, prod_chart, airflow_pg({"STREAMFLOW_PG_SSLMODE": "require"}), ca_copy("airflow")])
		with data.streamflow as chart_facts
}

test_a_chart_libpq_default_weaker_than_verify_full_fails if {
	postgres.deny == {"HelmChart kube-system/airflow: PGSSLMODE is verify-ca in prod; verify-full checks the server"} with input as testing.combined([cluster, prod_chart, airflow_pg(object.union(verifying, {"PGSSLMODE": "verify-ca"})), ca_copy("airflow")])
		with data.streamflow as chart_facts
}

test_a_ca_that_nothing_copies_into_the_charts_namespace_fails if {
	postgres.deny == {
		"HelmChart kube-system/airflow: STREAMFLOW_PG_SSLROOTCERT must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod",
		"HelmChart kube-system/airflow: PGSSLROOTCERT must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod",
	} with input as testing.combined([cluster, prod_chart, airflow_pg(verifying), ca_copy("monitoring")])
		with data.streamflow as chart_facts
}
