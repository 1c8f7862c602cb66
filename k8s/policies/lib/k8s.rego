# Helpers shared by the policies: the manifests of a `conftest test --combine` input, their pods,
# containers and images, and policy exceptions annotated with a reason.
package lib.k8s

import rego.v1

# Every manifest of the input (`--combine` gives a list of {path, contents}, one per document).
objects contains obj if {
	some file in input
	obj := file.contents
	is_object(obj)
}

# `Kind namespace/name`, for messages.
describe(obj) := sprintf("%s %s/%s", [obj.kind, obj.metadata.namespace, obj.metadata.name]) if {
	obj.metadata.namespace
} else := sprintf("%s %s", [obj.kind, object.get(obj, ["metadata", "name"], "<no name>")])

builtin_workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

# The pod spec of a built-in workload.
pod_spec(obj) := obj.spec if obj.kind == "Pod"

pod_spec(obj) := obj.spec.template.spec if obj.kind in builtin_workload_kinds

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

# Every pod the manifests make the cluster run: {obj, pod, builtin}. FlinkDeployment pods come
# from its podTemplate (the operator adds resources and probes, so `builtin` is false).
pods contains {"obj": obj, "pod": pod_spec(obj), "builtin": true} if some obj in objects

pods contains {"obj": obj, "pod": obj.spec.podTemplate.spec, "builtin": false} if {
	some obj in objects
	obj.kind == "FlinkDeployment"
}

containers(pod) := array.concat(object.get(pod, "initContainers", []), object.get(pod, "containers", []))

# Every image the manifests make the cluster run: {obj, image}.
images contains {"obj": p.obj, "image": c.image} if {
	some p in pods
	some c in containers(p.pod)
	c.image
}

images contains {"obj": obj, "image": obj.spec.image} if {
	some obj in objects
	obj.kind == "FlinkDeployment"
}

images contains {"obj": obj, "image": obj.spec.imageName} if {
	some obj in objects
	obj.kind == "Cluster"
	obj.spec.imageName
}

images contains {"obj": obj, "image": obj.spec.kafka.image} if {
	some obj in objects
	obj.kind == "Kafka"
	obj.spec.kafka.image
}

floating_tags := {"latest", "stable", "main", "master", "edge", "nightly"}

# True when an image reference names no digest and no fixed tag.
floating(image) if {
	not contains(image, "@")
	tag(image) in floating_tags
}

floating(image) if {
	not contains(image, "@")
	tag(image) == ""
}

tag(image) := parts[count(parts) - 1] if {
	segments := split(image, "/")
	parts := split(segments[count(segments) - 1], ":")
	count(parts) > 1
} else := ""

# A policy exception: annotation `exceptions.streamflow.io/<rule>` on the object, with its reason.
exception_prefix := "exceptions.streamflow.io/"

excepted(obj, rule) if count(trim_space(obj.metadata.annotations[concat("", [exception_prefix, rule])])) >= 20
