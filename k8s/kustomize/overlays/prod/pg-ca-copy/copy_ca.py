"""Copy ca.crt of CloudNativePG's CA Secret into the namespaces of PostgreSQL clients elsewhere.

A pod can mount a Secret of its own namespace only, and Airflow runs in `airflow` while
CloudNativePG keeps the cluster's CA in `streamflow` (Secret `<cluster>-ca`: ca.crt and ca.key).
The CronJob `pg-ca-copy` runs this with the Python standard library only: it reads the Secret
through the Kubernetes API and server-side applies a Secret of the same name holding ca.crt
alone (never ca.key) to each target namespace. CloudNativePG renews the CA certificate before
it expires (same key, new validity); the next run copies the renewal, and the kubelet refreshes
the mounted file. docs/adr/0106.

Environment: CA_SECRET (the Secret's name), CA_SOURCE_NAMESPACE (where CloudNativePG keeps it;
default: this pod's namespace), CA_TARGET_NAMESPACES (comma-separated).
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.request
from pathlib import Path
from typing import Any

ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
FIELD_MANAGER = "streamflow-pg-ca-copy"
KEY = "ca.crt"


def copy_of(source: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The Secret written to `namespace`: the source's ca.crt and nothing else."""
    meta = source["metadata"]
    data = source.get("data") or {}
    if KEY not in data:
        raise KeyError(f"Secret {meta['namespace']}/{meta['name']} has no {KEY}")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": meta["name"],
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER},
            "annotations": {"streamflow.io/copied-from": f"{meta['namespace']}/{meta['name']}"},
        },
        "data": {KEY: data[KEY]},
    }


def api(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One call to the Kubernetes API as this pod's service account (TLS verified)."""
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    host = f"[{host}]" if ":" in host else host
    url = f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}{path}"
    headers = {"Authorization": f"Bearer {(ACCOUNT / 'token').read_text().strip()}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/apply-patch+yaml"  # JSON is YAML
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    context = ssl.create_default_context(cafile=str(ACCOUNT / "ca.crt"))
    # https:// to the in-cluster API server, built above: never a file: or custom scheme.
    with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310
        result: dict[str, Any] = json.load(response)
    return result


def main() -> int:
    name = os.environ["CA_SECRET"]
    source_ns = os.environ.get("CA_SOURCE_NAMESPACE") or (ACCOUNT / "namespace").read_text()
    targets = [ns.strip() for ns in os.environ["CA_TARGET_NAMESPACES"].split(",") if ns.strip()]
    source = api("GET", f"/api/v1/namespaces/{source_ns}/secrets/{name}")
    for namespace in targets:
        path = f"/api/v1/namespaces/{namespace}/secrets/{name}"
        api("PATCH", f"{path}?fieldManager={FIELD_MANAGER}&force=true", copy_of(source, namespace))
        print(f"copied {KEY} of {source_ns}/{name} to {namespace}/{name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
