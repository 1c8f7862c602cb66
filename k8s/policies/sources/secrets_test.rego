package kustomize.sources_test

import data.kustomize.sources
import rego.v1

kustomization(generator) := {"path": "k8s/base/kustomization.yaml", "contents": {"secretGenerator": [generator]}}

facts := {"files": ["k8s/base/kustomization.yaml", "k8s/base/secrets/app.env.example"]}

test_generators_from_committed_examples_pass if {
	count(sources.deny) == 0 with input as [kustomization({"name": "app", "envs": ["secrets/app.env"]})]
		with data.streamflow as facts
}

test_literals_secrets_and_stray_env_files_fail if {
	secret := {"path": "k8s/base/secret.yaml", "contents": {"kind": "Secret", "metadata": {"name": "s"}}}
	sources.deny == {
		"k8s/base/secret.yaml: a literal Secret; use a secretGenerator",
		"k8s/base/kustomization.yaml: app: literals; use envs",
		"k8s/base/kustomization.yaml: app: app.env: secret env files go in secrets/*.env",
		"k8s/base/kustomization.yaml: app: no committed k8s/base/app.env.example",
	} with input as [secret, kustomization({"name": "app", "literals": ["token=x"], "envs": ["app.env"]})]
		with data.streamflow as facts
}
