# Every image the cluster runs is pinned (a fixed tag or a digest), and so is every Helm chart.
package k8s.images

import data.lib.k8s
import rego.v1

deny contains msg if {
	some i in k8s.images
	k8s.floating(i.image)
	msg := sprintf("%s: image '%s' has a floating tag", [k8s.describe(i.obj), i.image])
}

deny contains msg if {
	some obj in k8s.objects
	obj.kind == "HelmChart"
	version := sprintf("%v", [object.get(obj.spec, "version", "")])
	regex.match(`[*xX^~<>|]|^\s*$`, version)
	msg := sprintf("%s: chart version '%s' is not pinned", [k8s.describe(obj), version])
}
