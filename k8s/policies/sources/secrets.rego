# The kustomize source tree keeps no secret: no Secret manifests, no secretGenerator literals;
# every generator reads a git-ignored secrets/*.env with a committed .env.example next to it
# (the facts document lists the tree's files). Input: `conftest test --combine` over the tree's
# YAML files, paths relative to the repository root.
package kustomize.sources

import rego.v1

deny contains msg if {
	some file in input
	file.contents.kind == "Secret"
	msg := sprintf("%s: a literal Secret; use a secretGenerator", [file.path])
}

deny contains msg if {
	some file in input
	some generator in file.contents.secretGenerator
	count(object.get(generator, "literals", [])) > 0
	msg := sprintf("%s: %s: literals; use envs", [file.path, generator.name])
}

deny contains msg if {
	some file in input
	some generator in file.contents.secretGenerator
	some env in object.get(generator, "envs", [])
	not regex.match(`(^|/)secrets/[^/]+\.env$`, env)
	msg := sprintf("%s: %s: %s: secret env files go in secrets/*.env", [file.path, generator.name, env])
}

deny contains msg if {
	some file in input
	some generator in file.contents.secretGenerator
	some env in object.get(generator, "envs", [])
	example := concat("", [dir(file.path), env, ".example"])
	not example in {f | some f in data.streamflow.files}
	msg := sprintf("%s: %s: no committed %s", [file.path, generator.name, example])
}

dir(path) := concat("/", array.concat(array.slice(parts, 0, count(parts) - 1), [""])) if {
	parts := split(path, "/")
}
