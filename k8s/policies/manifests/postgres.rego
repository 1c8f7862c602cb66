# PostgreSQL clients (pods labelled streamflow.io/postgres-client) of a CloudNativePG Cluster log in
# as a role of their own (ADR 0105): a managed role of the Cluster whose passwordSecret is where
# their password comes from, never the owner's secret; in the prod profile they verify the server
# (sslmode=verify-full) against the Cluster's CA (Secret <cluster>-ca, mounted where
# STREAMFLOW_PG_SSLROOTCERT points). Pods without the label get no PostgreSQL password at all.
package k8s.postgres

import data.lib.k8s
import data.lib.settings
import rego.v1

clusters contains c if {
	some c in k8s.objects
	c.kind == "Cluster"
	startswith(c.apiVersion, "postgresql.cnpg.io/")
}

labels(p) := object.get(p.obj, ["spec", "template", "metadata", "labels"], {}) if p.builtin

labels(p) := object.get(p.obj, ["spec", "podTemplate", "metadata", "labels"], {}) if not p.builtin

clients contains p if {
	count(clusters) > 0
	some p in k8s.pods
	labels(p)["streamflow.io/postgres-client"] == "true"
}

# The Secret each PostgreSQL password variable of a pod comes from: {env, secret}.
password_sources(p) := {{"env": e.name, "secret": e.valueFrom.secretKeyRef.name} |
	some c in p.pod.containers
	some e in c.env
	regex.match(`^STREAMFLOW_([A-Z]+_)?PG_PASSWORD$`, e.name)
	e.valueFrom.secretKeyRef.name
}

owner_secrets contains c.spec.bootstrap.initdb.secret.name if some c in clusters

role_secrets contains r.passwordSecret.name if {
	some c in clusters
	some r in c.spec.managed.roles
	r.name != c.spec.bootstrap.initdb.owner
	r.login == true
}

deny contains msg if {
	some p in clients
	count(password_sources(p)) == 0
	msg := sprintf("%s: a PostgreSQL client without a password from a Secret (STREAMFLOW_<SERVICE>_PG_PASSWORD)", [k8s.describe(p.obj)])
}

deny contains msg if {
	some p in clients
	some source in password_sources(p)
	source.secret in owner_secrets
	msg := sprintf("%s: %s comes from %s, the database owner's secret; a service logs in as its own role", [k8s.describe(p.obj), source.env, source.secret])
}

deny contains msg if {
	some p in clients
	some source in password_sources(p)
	not source.secret in owner_secrets
	not source.secret in role_secrets
	msg := sprintf("%s: %s comes from %s, which is no login role's passwordSecret in the Cluster's managed roles", [k8s.describe(p.obj), source.env, source.secret])
}

# Only the labelled clients (which the network policy lets reach PostgreSQL) get a password: the
# scorer, for one, has no PostgreSQL access.
deny contains msg if {
	count(clusters) > 0
	some p in k8s.pods
	not p in clients
	some source in password_sources(p)
	msg := sprintf("%s: gets %s from %s but is no PostgreSQL client (label streamflow.io/postgres-client)", [k8s.describe(p.obj), source.env, source.secret])
}

prod(p) if settings.env_value(p.obj, p.pod, "STREAMFLOW_PROFILE") == "prod"

deny contains msg if {
	some p in clients
	prod(p)
	mode := settings.env_value(p.obj, p.pod, "STREAMFLOW_PG_SSLMODE")
	mode != "verify-full"
	msg := sprintf("%s: STREAMFLOW_PG_SSLMODE is %s in prod; verify-full checks the server", [k8s.describe(p.obj), mode])
}

deny contains msg if {
	some p in clients
	prod(p)
	not ca_mounted(p)
	msg := sprintf("%s: STREAMFLOW_PG_SSLROOTCERT must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod", [k8s.describe(p.obj)])
}

missing_sslmode(p) if not settings.env_value(p.obj, p.pod, "STREAMFLOW_PG_SSLMODE")

deny contains msg if {
	some p in clients
	prod(p)
	missing_sslmode(p)
	msg := sprintf("%s: STREAMFLOW_PG_SSLMODE is unset in prod; verify-full checks the server", [k8s.describe(p.obj)])
}

# The CA file lies in a mount of a volume holding the Cluster's CA Secret (key ca.crt).
ca_mounted(p) if {
	path := settings.env_value(p.obj, p.pod, "STREAMFLOW_PG_SSLROOTCERT")
	some c in p.pod.containers
	some m in c.volumeMounts
	some v in p.pod.volumes
	v.name == m.name
	some cluster in clusters
	v.secret.secretName == concat("", [cluster.metadata.name, "-ca"])
	some item in v.secret.items
	item.key == "ca.crt"
	path == concat("/", [trim_suffix(m.mountPath, "/"), item.path])
}
