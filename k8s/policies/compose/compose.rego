# docker-compose.test.yml without Docker: every service has a pinned image or a build whose
# context and Dockerfile exist; depends_on names real services; a service built from this
# repository declares its settings classes (x-streamflow-settings) and sets only variables they
# read (or that its x-streamflow-env-sources mention). Paths and variable names come from the
# facts document (scripts/k8s/facts.py): data.streamflow.compose.services[<name>].
package compose

import data.lib.k8s
import rego.v1

services := {name: service | some file in input; some name, service in file.contents.services}

facts(name) := data.streamflow.compose.services[name]

deny contains msg if {
	some name, service in services
	not service.build
	not service.image
	msg := sprintf("%s: neither image nor build", [name])
}

deny contains msg if {
	some name, service in services
	not service.build
	k8s.floating(service.image)
	msg := sprintf("%s: image '%s' has a floating tag", [name, service.image])
}

deny contains msg if {
	some name, service in services
	some dependency in depends_on(service)
	not services[dependency]
	msg := sprintf("%s: depends on unknown service %s", [name, dependency])
}

deny contains msg if {
	some name, service in services
	service.build
	some path in facts(name).missing_paths
	msg := sprintf("%s: %s does not exist", [name, path])
}

deny contains msg if {
	some name, service in services
	service.build
	count(object.get(service, "x-streamflow-settings", [])) == 0
	msg := sprintf("%s: built from this repo but declares no x-streamflow-settings", [name])
}

deny contains msg if {
	some name, service in services
	some error in facts(name).errors
	msg := sprintf("%s: %s", [name, error])
}

deny contains msg if {
	some name, service in services
	service.build
	count(object.get(service, "x-streamflow-settings", [])) > 0
	count(facts(name).errors) == 0
	known := {n | some n in facts(name).env}
	some variable in env_names(service)
	not variable in known
	msg := sprintf("%s: sets %s, which no settings class of the service reads", [name, variable])
}

depends_on(service) := service.depends_on if is_array(service.depends_on)

depends_on(service) := object.keys(service.depends_on) if is_object(service.depends_on)

env_names(service) := object.keys(service.environment) if is_object(service.environment)

env_names(service) := {split(item, "=")[0] | some item in service.environment} if is_array(service.environment)
