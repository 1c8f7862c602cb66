"""The model registry: MLflow's tracking server spoken to over its REST API (standard library only).

The training CLI needs a dozen calls: an experiment and a run per training (params, metrics, the
model file as an artifact served by the tracking server), a registered model whose versions point
at those runs' artifacts, version tags, and the ``champion`` alias. The ``mlflow`` client package
would add 19 packages to the main environment (``mlflow-skinny``) or downgrade pyarrow (``mlflow``);
these calls need none (docs/adr/0056). Every failure is a :class:`RegistryError` naming the call.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MODEL_DIR = "model"
"""Artifact directory of a run holding the model file; a version's source points at it."""
MODEL_FILE = "model.npz"
API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
_MAX_PARAMS_PER_CALL = 100
"""MLflow's log-batch limit on params (metrics: 1,000; tags: 100)."""


class RegistrySettings(BaseSettings):
    """Where the registry is and which registered model the scorer's supervised model lives in."""

    model_config = SettingsConfigDict(env_prefix="STREAMFLOW_MLFLOW_", extra="ignore")

    url: str = Field(default="http://127.0.0.1:15000", min_length=8)
    model_name: str = Field(default="streamflow-fraud-gbdt", min_length=1)
    champion_alias: str = Field(default="champion", min_length=1)


class RegistryError(RuntimeError):
    """A registry call failed; ``error_code`` is MLflow's (e.g. RESOURCE_DOES_NOT_EXIST)."""

    def __init__(self, message: str, error_code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One version of a registered model."""

    name: str
    version: str
    run_id: str
    source: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelVersion:
        return cls(
            name=str(data["name"]),
            version=str(data["version"]),
            run_id=str(data.get("run_id", "")),
            source=str(data.get("source", "")),
            tags={str(t["key"]): str(t["value"]) for t in data.get("tags", [])},
            aliases=tuple(str(a) for a in data.get("aliases", [])),
        )


@dataclass(frozen=True, slots=True)
class Run:
    """A tracking run: where its artifacts go."""

    run_id: str
    artifact_uri: str


def _pairs(values: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in values.items()]


def artifact_path(uri: str) -> str:
    """The server path of an ``mlflow-artifacts:`` URI (the only kind this client can reach)."""
    scheme, _, rest = uri.partition(":")
    if scheme != "mlflow-artifacts" or not rest:
        raise RegistryError(
            f"artifact URI {uri!r} is not served by the tracking server: start it with "
            "--serve-artifacts (scripts/infra/mlflow.sh does)"
        )
    if rest.startswith("//"):  # mlflow-artifacts://host:port/path
        rest = rest[2:].partition("/")[2]
    return rest.lstrip("/")


class MlflowRegistry:
    """A small client of one MLflow tracking server."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    # -------------------------------------------------------------------------------- transport
    def _request(
        self, method: str, path: str, data: bytes | None, content_type: str
    ) -> tuple[bytes, str]:
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured registry
            self.url + path, data=data, method=method, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            try:
                detail = json.loads(body)
            except ValueError:
                detail = {"message": body[:300]}
            code = str(detail.get("error_code", ""))
            message = str(detail.get("message", ""))[:500]
            raise RegistryError(
                f"{method} {path.partition('?')[0]}: HTTP {exc.code} {code}: {message}",
                code,
                exc.code,
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RegistryError(
                f"MLflow registry at {self.url} not reachable ({reason}): start it with "
                "'make up' or 'scripts/infra/up.sh mlflow', or pass --registry URL"
            ) from None

    def _json(
        self,
        method: str,
        endpoint: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        path = API + endpoint
        if query:
            path += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        raw, _ = self._request(method, path, data, "application/json")
        parsed = json.loads(raw) if raw else {}
        if not isinstance(parsed, dict):
            raise RegistryError(f"{method} {endpoint}: unexpected answer {raw[:200]!r}")
        return parsed

    def health(self) -> bool:
        """True when the server answers ``/health``."""
        try:
            self._request("GET", "/health", None, "text/plain")
        except RegistryError:
            return False
        return True

    # ------------------------------------------------------------------------------------ runs
    def experiment_id(self, name: str) -> str:
        """The id of experiment ``name``, created on first use."""
        try:
            found = self._json("GET", "/experiments/get-by-name", query={"experiment_name": name})
            return str(found["experiment"]["experiment_id"])
        except RegistryError as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
        try:
            return str(self._json("POST", "/experiments/create", {"name": name})["experiment_id"])
        except RegistryError as exc:  # created meanwhile by another training
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            return self.experiment_id(name)

    def start_run(self, experiment_id: str, run_name: str, tags: Mapping[str, Any]) -> Run:
        """A new run in ``experiment_id``."""
        info = self._json(
            "POST",
            "/runs/create",
            {
                "experiment_id": experiment_id,
                "run_name": run_name,
                "start_time": int(time.time() * 1000),
                "tags": _pairs(tags),
            },
        )["run"]["info"]
        return Run(str(info["run_id"]), str(info["artifact_uri"]))

    def log(
        self, run_id: str, params: Mapping[str, Any], metrics: Mapping[str, float | None]
    ) -> None:
        """Params (as strings) and metrics (None and NaN left out) of a run."""
        now = int(time.time() * 1000)
        values = [
            {"key": k, "value": float(v), "timestamp": now, "step": 0}
            for k, v in metrics.items()
            if v is not None and not math.isnan(v)
        ]
        pairs = _pairs(params)
        chunks = [pairs[i : i + _MAX_PARAMS_PER_CALL] for i in range(0, len(pairs), 100)] or [[]]
        for index, chunk in enumerate(chunks):
            body = {"run_id": run_id, "params": chunk, "metrics": values if index == 0 else []}
            self._json("POST", "/runs/log-batch", body)

    def finish_run(self, run_id: str, status: str = "FINISHED") -> None:
        """Close a run (FINISHED or FAILED)."""
        self._json(
            "POST",
            "/runs/update",
            {"run_id": run_id, "status": status, "end_time": int(time.time() * 1000)},
        )

    def put_artifact(self, artifact_uri: str, relative_path: str, data: bytes) -> str:
        """Upload ``data`` under a run's artifact URI; the artifact's URI."""
        path = f"{artifact_path(artifact_uri)}/{relative_path}".strip("/")
        self._request(
            "PUT",
            f"{ARTIFACTS_API}/{urllib.parse.quote(path)}",
            data,
            "application/octet-stream",
        )
        return f"{artifact_uri.rstrip('/')}/{relative_path}"

    def get_artifact(self, uri: str) -> bytes:
        """The bytes of one artifact file."""
        path = urllib.parse.quote(artifact_path(uri))
        raw, _ = self._request("GET", f"{ARTIFACTS_API}/{path}", None, "application/octet-stream")
        return raw

    def delete_artifact(self, uri: str) -> None:
        """Remove one artifact file (test clean-up)."""
        path = urllib.parse.quote(artifact_path(uri))
        self._request("DELETE", f"{ARTIFACTS_API}/{path}", None, "application/octet-stream")

    # -------------------------------------------------------------------------------- registry
    def ensure_model(self, name: str, description: str = "") -> None:
        """Create registered model ``name`` unless it exists."""
        try:
            self._json(
                "POST", "/registered-models/create", {"name": name, "description": description}
            )
        except RegistryError as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise

    def create_version(
        self,
        name: str,
        source: str,
        run_id: str,
        tags: Mapping[str, Any],
        description: str = "",
    ) -> ModelVersion:
        """A new version of ``name`` whose files are at ``source`` (an artifact directory)."""
        answer = self._json(
            "POST",
            "/model-versions/create",
            {
                "name": name,
                "source": source,
                "run_id": run_id,
                "tags": _pairs(tags),
                "description": description,
            },
        )
        return ModelVersion.from_json(answer["model_version"])

    def version(self, name: str, version: str) -> ModelVersion:
        """One version, with its tags and aliases."""
        answer = self._json("GET", "/model-versions/get", query={"name": name, "version": version})
        return ModelVersion.from_json(answer["model_version"])

    def alias_version(self, name: str, alias: str) -> ModelVersion | None:
        """The version ``alias`` points at; None if the model or the alias does not exist."""
        try:
            model = self._json("GET", "/registered-models/get", query={"name": name})
        except RegistryError as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        for entry in model["registered_model"].get("aliases", []):
            if entry.get("alias") == alias:
                return self.version(name, str(entry["version"]))
        return None

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version`` (moving it from any other)."""
        self._json(
            "POST",
            "/registered-models/alias",
            {"name": name, "alias": alias, "version": version},
        )

    def tag_version(self, name: str, version: str, tags: Mapping[str, Any]) -> None:
        """Set tags on a version."""
        for key, value in tags.items():
            self._json(
                "POST",
                "/model-versions/set-tag",
                {"name": name, "version": version, "key": key, "value": str(value)},
            )

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first."""
        found: list[ModelVersion] = []
        for page in self._pages(
            "/model-versions/search", {"filter": f"name='{name}'", "max_results": "200"}
        ):
            found.extend(ModelVersion.from_json(v) for v in page.get("model_versions", []))
        return sorted(found, key=lambda v: int(v.version))

    def _pages(self, endpoint: str, query: dict[str, str]) -> Iterator[dict[str, Any]]:
        token = ""
        while True:
            extra = {"page_token": token} if token else {}
            page = self._json("GET", endpoint, query=query | extra)
            yield page
            token = str(page.get("next_page_token", ""))
            if not token:
                return

    def delete_model(self, name: str) -> None:
        """Delete a registered model and its versions (test clean-up; run artifacts stay)."""
        self._json("DELETE", "/registered-models/delete", {"name": name})

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark an experiment deleted (test clean-up)."""
        self._json("POST", "/experiments/delete", {"experiment_id": experiment_id})

    def purge(self, name: str) -> None:
        """Delete ``name`` with its versions' model files and its experiment (test clean-up)."""
        versions = self.versions(name)
        for version in versions:
            self.delete_artifact(f"{version.source}/{MODEL_FILE}")
        if versions:
            self.delete_model(name)
            self.delete_experiment(self.experiment_id(name))
