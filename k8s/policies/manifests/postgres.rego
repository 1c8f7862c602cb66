# PostgreSQL clients (pods labelled streamflow.io/postgres-client) of a CloudNativePG Cluster log in
# as a role of their own (ADR 0105): a managed role of the Cluster whose passwordSecret is where
# their password comes from, never the owner's secret; in the prod profile they verify the server
# (sslmode=verify-full) against the Cluster's CA (Secret <cluster>-ca, mounted where
# STREAMFLOW_PG_SSLROOTCERT points). Pods without the label get no PostgreSQL password at all.
# The TLS rules also cover the pods of a HelmChart that facts name and that set STREAMFLOW_PG_HOST
# (Airflow: its DAGs, dbt and its metadata database): every sslmode they set (STREAMFLOW_PG_SSLMODE,
# libpq's PGSSLMODE) is verify-full, every CA path (STREAMFLOW_PG_SSLROOTCERT, PGSSLROOTCERT) names
# ca.crt of a mounted `<cluster>-ca`, and outside the Cluster's namespace that Secret is one a
# CronJob labelled streamflow.io/ca-copy copies there (docs/adr/0106).
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

# Prod: the profile says so, or (a chart's pods, which read no STREAMFLOW_PROFILE) the overlay's
# label on the object.
prod(p) if settings.env_value(p.obj, p.pod, "STREAMFLOW_PROFILE") == "prod"

prod(p) if p.obj.metadata.labels["streamflow.io/environment"] == "prod"

# A chart's pods that connect to PostgreSQL: their connection settings come from the chart values.
chart_clients contains p if {
	count(clusters) > 0
	some p in settings.chart_pods
	settings.env_value(p.obj, p.pod, "STREAMFLOW_PG_HOST")
}

tls_clients := clients | chart_clients

sslmode_vars := ["STREAMFLOW_PG_SSLMODE", "PGSSLMODE"]

rootcert_vars := ["STREAMFLOW_PG_SSLROOTCERT", "PGSSLROOTCERT"]

deny contains msg if {
	some p in tls_clients
	prod(p)
	some name in sslmode_vars
	mode := settings.env_value(p.obj, p.pod, name)
	mode != "verify-full"
	msg := sprintf("%s: %s is %s in prod; verify-full checks the server", [k8s.describe(p.obj), name, mode])
}

deny contains msg if {
	some p in tls_clients
	prod(p)
	some name in required_vars(p)
	name in sslmode_vars
	not settings.env_value(p.obj, p.pod, name)
	msg := sprintf("%s: %s is unset in prod; %s", [k8s.describe(p.obj), name, why_required[name]])
}

# A CA variable is checked where it is set, and where it is required (unset: not mounted).
checked_rootcert(p, name) if settings.env_value(p.obj, p.pod, name)

checked_rootcert(p, name) if name in required_vars(p)

rootcert_ok(p, name) if ca_mounted(p, settings.env_value(p.obj, p.pod, name))

# Every client names its sslmode and CA for its own connections; a chart's pods also set libpq's
# defaults, since their own database connection (Airflow's metadata URL) comes from a Secret
# these checks cannot read (its URL names no sslmode, so the defaults apply).
required_vars(p) := ["STREAMFLOW_PG_SSLMODE", "STREAMFLOW_PG_SSLROOTCERT"] if p in clients

required_vars(p) := array.concat(sslmode_vars, rootcert_vars) if p in chart_clients

why_required := {
	"STREAMFLOW_PG_SSLMODE": "verify-full checks the server",
	"PGSSLMODE": "the chart's own connection (libpq's default) must use verify-full",
}

deny contains msg if {
	some p in tls_clients
	prod(p)
	some name in rootcert_vars
	checked_rootcert(p, name)
	not rootcert_ok(p, name)
	msg := sprintf("%s: %s must name ca.crt of the CloudNativePG CA Secret (<cluster>-ca) mounted in the pod", [k8s.describe(p.obj), name])
}

# The CA file lies in a mount of a volume holding the Cluster's CA Secret (key ca.crt), and that
# Secret exists in the pod's namespace: the Cluster's own, or one a CA copy writes to.
ca_mounted(p, path) if {
	some c in p.pod.containers
	some m in c.volumeMounts
	some v in p.pod.volumes
	v.name == m.name
	some cluster in clusters
	v.secret.secretName == concat("", [cluster.metadata.name, "-ca"])
	ca_in_namespace(cluster, settings.pods_namespace(p.obj))
	some item in v.secret.items
	item.key == "ca.crt"
	path == concat("/", [trim_suffix(m.mountPath, "/"), item.path])
}

ca_in_namespace(cluster, namespace) if object.get(cluster.metadata, "namespace", "") == namespace

ca_in_namespace(cluster, namespace) if {
	some job in k8s.objects
	job.kind == "CronJob"
	job.metadata.labels["streamflow.io/ca-copy"] == "true"
	object.get(job.metadata, "namespace", "") == object.get(cluster.metadata, "namespace", "")
	pod := k8s.pod_spec(job)
	settings.env_value(job, pod, "CA_SECRET") == concat("", [cluster.metadata.name, "-ca"])
	namespace in {trim_space(ns) | some ns in split(settings.env_value(job, pod, "CA_TARGET_NAMESPACES"), ",")}
}
