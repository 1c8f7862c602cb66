package k8s.secrets_test

import data.k8s.secrets
import data.lib.testing
import rego.v1

secret(values) := {"kind": "Secret", "metadata": {"name": "s", "namespace": "apps"}, "data": values}

test_secrets_rendered_from_empty_examples_pass if {
	count(secrets.deny) == 0 with input as testing.combined([secret({"username": "YWRtaW4=", "password": ""})])
}

test_a_secret_with_a_value_fails if {
	secrets.deny == {"Secret apps/s: password has a value in the repository; secrets come from secrets/*.env"} with input as testing.combined([secret({"username": "YWRtaW4=", "password": "aHVudGVyMg=="})])
}
