"""Structure of docker-compose.test.yml, checked without Docker.

It parses; every service has an image with a pinned tag or a build whose Dockerfile exists;
`depends_on` names real services; and every environment variable a service built from this
repository sets is a real setting: services declare their settings classes in the extension
field `x-streamflow-settings` (`module:Class`), and the names come from
`streamflow.platform.settings.env_var_names`. Variables read outside pydantic settings are
allowed when they appear in a source file the service names in `x-streamflow-env-sources`.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import yaml

from scripts.k8s.problems import Problem

CHECK = "compose"
SETTINGS_FIELD = "x-streamflow-settings"
SOURCES_FIELD = "x-streamflow-env-sources"
ENV_NAME = re.compile(r"\bSTREAMFLOW_[A-Z0-9_]*[A-Z0-9]\b")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ValueError(f"{path}: no `services` mapping")
    return data


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(str(item).partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def settings_env_names(reference: str) -> set[str]:
    """Env var names read by the settings class `module:Class` (ImportError if it is missing)."""
    from streamflow.platform.settings import env_var_names

    module_name, _, class_name = reference.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return env_var_names(cls)


def _build_problems(name: str, build: Any, base: Path) -> list[Problem]:
    spec = {"context": build} if isinstance(build, str) else dict(build)
    context = base / str(spec.get("context", "."))
    dockerfile = context / str(spec.get("dockerfile", "Dockerfile"))
    if not context.is_dir():
        return [Problem(CHECK, name, f"build context {context} does not exist")]
    if not dockerfile.is_file():
        return [Problem(CHECK, name, f"Dockerfile {dockerfile} does not exist")]
    return []


def _image_problems(name: str, image: str) -> list[Problem]:
    last = image.rsplit("/", 1)[-1]
    if "@" not in image and (":" not in last or last.endswith(":latest")):
        return [Problem(CHECK, name, f"image {image!r} has a floating tag")]
    return []


def source_env_names(path: Path) -> set[str]:
    """`STREAMFLOW_*` names that appear literally in a source file."""
    return set(ENV_NAME.findall(path.read_text()))


def _env_problems(name: str, service: dict[str, Any], base: Path) -> list[Problem]:
    references = service.get(SETTINGS_FIELD) or []
    if not references:
        return [Problem(CHECK, name, f"built from this repo but declares no {SETTINGS_FIELD}")]
    known: set[str] = set()
    found = []
    for source in service.get(SOURCES_FIELD) or []:
        if (base / source).is_file():
            known |= source_env_names(base / source)
        else:
            found.append(Problem(CHECK, name, f"{SOURCES_FIELD}: {source} does not exist"))
    for reference in references:
        try:
            known |= settings_env_names(reference)
        except (ImportError, AttributeError) as err:
            found.append(Problem(CHECK, name, f"cannot load settings {reference}: {err!r}"))
    if found:
        return found
    return [
        Problem(CHECK, name, f"sets {var}, which no settings class of the service reads")
        for var in sorted(set(environment(service)) - known)
    ]


def check(path: Path) -> list[Problem]:
    try:
        data = load(path)
    except (yaml.YAMLError, ValueError) as err:
        return [Problem(CHECK, str(path), f"does not parse: {err}")]
    services: dict[str, dict[str, Any]] = data["services"]
    found: list[Problem] = []
    for name, service in services.items():
        if "build" in service:
            found += _build_problems(name, service["build"], path.parent)
            found += _env_problems(name, service, path.parent)
        elif "image" in service:
            found += _image_problems(name, str(service["image"]))
        else:
            found.append(Problem(CHECK, name, "neither image nor build"))
        depends = service.get("depends_on") or []
        for dependency in depends if isinstance(depends, list) else list(depends):
            if dependency not in services:
                found.append(Problem(CHECK, name, f"depends on unknown service {dependency}"))
    return found
