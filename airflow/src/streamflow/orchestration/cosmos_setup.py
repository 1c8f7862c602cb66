"""Cosmos configuration shared by the dbt DAGs: manifest rendering, dbt run as a subprocess.

:func:`dbt_task_group` and :func:`retrying_default_args` are what the dbt DAGs build from.

Rendering reads ``manifest.json`` (``LoadMode.DBT_MANIFEST``), so parsing a DAG file never runs
dbt; tasks call the dbt of ``envs/dbt`` as a subprocess (``InvocationMode.SUBPROCESS`` in both
render and execution config, as Cosmos requires when dbt lives in another environment).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos import settings as cosmos_settings
from cosmos.constants import (
    ExecutionMode,
    InvocationMode,
    LoadMode,
    TestBehavior,
    TestIndirectSelection,
)

from streamflow.orchestration.alerts import on_failure
from streamflow.orchestration.config import WarehouseConfig, warehouse_config


def project_config(cfg: WarehouseConfig | None = None) -> ProjectConfig:
    """The dbt project, rendered from its pre-built manifest (no dbt deps: none are used)."""
    cfg = cfg or warehouse_config()
    return ProjectConfig(
        dbt_project_path=cfg.project_dir,
        manifest_path=cfg.manifest,
        install_dbt_deps=False,
        env_vars={"DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
    )


def profile_config(cfg: WarehouseConfig | None = None) -> ProfileConfig:
    """dbt's own profiles.yml, whose connection comes from the ``STREAMFLOW_PG_*`` variables."""
    cfg = cfg or warehouse_config()
    return ProfileConfig(
        profile_name="streamflow", target_name=cfg.target, profiles_yml_filepath=cfg.profiles_yml
    )


def execution_config(cfg: WarehouseConfig | None = None) -> ExecutionConfig:
    """Run dbt locally as a subprocess of the task, with the dbt environment's executable.

    ``buildable`` indirect selection: a model's task runs the tests whose parents are that model
    or its ancestors, so a relationships test runs in the task of the later of its two models
    (never before both exist) and no extra task per test is needed.
    """
    cfg = cfg or warehouse_config()
    return ExecutionConfig(
        execution_mode=ExecutionMode.LOCAL,
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=cfg.dbt_executable,
        test_indirect_selection=TestIndirectSelection.BUILDABLE,
    )


def render_config(
    select: list[str], exclude: list[str] | None = None, cfg: WarehouseConfig | None = None
) -> RenderConfig:
    """One task per selected model (``dbt build`` of the model: run + its tests).

    Cosmos' own per-model assets are off: the DAGs publish one SILVER / GOLD asset each.
    """
    cfg = cfg or warehouse_config()
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select,
        exclude=exclude or [],
        test_behavior=TestBehavior.BUILD,
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=cfg.dbt_executable,
        should_detach_multiple_parents_tests=False,
        emit_datasets=False,
    )


def dbt_task_group(
    group_id: str,
    select: list[str],
    exclude: list[str] | None = None,
    dbt_vars: dict[str, str] | None = None,
) -> Any:
    """A Cosmos task group of the selected models in the current DAG, one task per model.

    ``dbt_vars`` become ``--vars`` of every task (values may be Jinja templates).
    """
    operator_args: dict[str, Any] = {"append_env": True}
    if dbt_vars:
        operator_args["vars"] = dbt_vars
    return DbtTaskGroup(
        group_id=group_id,
        project_config=project_config(),
        profile_config=profile_config(),
        execution_config=execution_config(),
        render_config=render_config(select, exclude=exclude),
        operator_args=operator_args,
    )


def partial_parse_cache(identifier: str) -> Path | None:
    """A cache directory for dbt's partial parse, for Cosmos operators outside a task group.

    Cosmos gives each task group one (``<cosmos cache_dir>/<dag>__<group>``) and copies the newest
    ``partial_parse.msgpack`` into every task's project copy; an operator of its own has none
    unless given one, and every run of it parsed the whole project (~3 s per dbt call here). None
    when Cosmos' cache or its partial-parse cache is switched off in the Airflow config.
    """
    if not (cosmos_settings.enable_cache and cosmos_settings.enable_cache_partial_parse):
        return None
    path = Path(cosmos_settings.cache_dir) / identifier
    (path / "target").mkdir(parents=True, exist_ok=True)
    return path


def retrying_default_args() -> dict[str, Any]:
    """Task defaults of the dbt build DAGs: one retry after 2 minutes, alert on failure."""
    return {"retries": 1, "retry_delay": timedelta(minutes=2), "on_failure_callback": on_failure}
