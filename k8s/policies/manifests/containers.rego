# Every container is sized, runs as non-root, cannot escalate, drops all capabilities and has a
# read-only root filesystem. Running as root or with a writable root filesystem needs an
# annotation `exceptions.streamflow.io/run-as-non-root` or `.../read-only-root-filesystem` on
# the object, whose value says why (20 characters at least).
package k8s.containers

import data.lib.k8s
import rego.v1

deny contains msg if {
	some [obj, container, rule] in missing
	msg := sprintf("%s container %s: needs %s", [k8s.describe(obj), container, rule])
}

deny contains msg if {
	some obj in k8s.objects
	some key, reason in object.get(obj, ["metadata", "annotations"], {})
	startswith(key, k8s.exception_prefix)
	count(trim_space(reason)) < 20
	msg := sprintf("%s: exception %s needs a reason (20 characters at least)", [k8s.describe(obj), key])
}

# [object, container name, what it lacks]
missing contains [p.obj, c.name, "requests and limits for cpu and memory"] if {
	some p in k8s.pods
	p.builtin
	some c in k8s.containers(p.pod)
	some part in ["requests", "limits"]
	some resource in ["cpu", "memory"]
	not c.resources[part][resource]
}

missing contains [p.obj, c.name, "runAsNonRoot: true"] if {
	some p in k8s.pods
	some c in k8s.containers(p.pod)
	not non_root(p.pod, c)
	not k8s.excepted(p.obj, "run-as-non-root")
}

missing contains [p.obj, c.name, "a user other than root (runAsUser: 0)"] if {
	some p in k8s.pods
	some c in k8s.containers(p.pod)
	object.get(c, ["securityContext", "runAsUser"], object.get(p.pod, ["securityContext", "runAsUser"], null)) == 0
	not k8s.excepted(p.obj, "run-as-non-root")
}

missing contains [p.obj, c.name, "allowPrivilegeEscalation: false"] if {
	some p in k8s.pods
	some c in k8s.containers(p.pod)
	not c.securityContext.allowPrivilegeEscalation == false
}

missing contains [p.obj, c.name, "capabilities.drop: [ALL]"] if {
	some p in k8s.pods
	some c in k8s.containers(p.pod)
	not "ALL" in object.get(c, ["securityContext", "capabilities", "drop"], [])
}

missing contains [p.obj, c.name, "readOnlyRootFilesystem: true"] if {
	some p in k8s.pods
	some c in k8s.containers(p.pod)
	not c.securityContext.readOnlyRootFilesystem == true
	not k8s.excepted(p.obj, "read-only-root-filesystem")
}

non_root(_, c) if c.securityContext.runAsNonRoot == true

non_root(pod, c) if {
	pod.securityContext.runAsNonRoot == true
	not c.securityContext.runAsNonRoot == false
}
