# No Secret of a rendered overlay carries a value: secrets come from git-ignored env files whose
# committed examples leave every secret empty (user names excepted), and the checks render from
# the examples. A value here is a literal in a generator or a committed Secret.
package k8s.secrets

import data.lib.k8s
import rego.v1

deny contains msg if {
	some obj in k8s.objects
	obj.kind == "Secret"
	some field in ["data", "stringData"]
	some key, value in object.get(obj, field, {})
	value != ""
	not regex.match(`(?i)(^|[-_])(user|username|admin-user)$`, key)
	msg := sprintf("%s: %s has a value in the repository; secrets come from secrets/*.env", [k8s.describe(obj), key])
}
