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
