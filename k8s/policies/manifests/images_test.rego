package k8s.images_test

import data.k8s.images
import data.lib.testing
import rego.v1

chart(version) := {"kind": "HelmChart", "metadata": {"name": "c", "namespace": "ops"}, "spec": {"version": version}}

test_pinned_images_and_charts_pass if {
	digest := testing.with_container({"image": "example/api@sha256:0123"})
	count(images.deny) == 0 with input as testing.combined([testing.deployment, digest, chart("1.2.3")])
}

test_floating_images_and_charts_fail if {
	flink := {"kind": "FlinkDeployment", "metadata": {"name": "job", "namespace": "apps"}, "spec": {"image": "example/job"}}
	latest := testing.with_container({"image": "registry:5000/example/api:latest"})
	images.deny == {
		"Deployment apps/api: image 'registry:5000/example/api:latest' has a floating tag",
		"FlinkDeployment apps/job: image 'example/job' has a floating tag",
		"HelmChart ops/c: chart version '1.x' is not pinned",
	} with input as testing.combined([latest, flink, chart("1.x")])
}
