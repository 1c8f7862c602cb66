# Every container of a built-in workload has liveness and readiness probes, and no HTTP probe
# asks /metrics: a metrics page answers while the process cannot do its work, so an outage would
# never make the pod unready. No exception: every service serves a health endpoint. Pods that
# run to completion (Jobs, CronJobs: no service, nothing to route to) need no probes.
package k8s.probes

import data.lib.k8s
import rego.v1

deny contains msg if {
	some p in k8s.pods
	p.builtin
	not p.obj.kind in {"Job", "CronJob"}
	some c in p.pod.containers
	some probe in ["livenessProbe", "readinessProbe"]
	not c[probe]
	msg := sprintf("%s container %s: needs a %s", [k8s.describe(p.obj), c.name, probe])
}

deny contains msg if {
	some p in k8s.pods
	some c in k8s.containers(p.pod)
	some probe in ["startupProbe", "livenessProbe", "readinessProbe"]
	path := c[probe].httpGet.path
	regex.match(`(^|/)metrics/?$`, path)
	msg := sprintf("%s container %s: %s asks %s; point it at a health endpoint", [k8s.describe(p.obj), c.name, probe, path])
}
