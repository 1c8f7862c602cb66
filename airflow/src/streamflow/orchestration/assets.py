"""Assets the dbt DAGs publish: marts run when staging has refreshed silver."""

from __future__ import annotations

from airflow.sdk import Asset

SILVER = Asset("streamflow://warehouse/silver")
"""Updated by dbt_staging after every staging model built and passed its tests."""

GOLD = Asset("streamflow://warehouse/gold")
"""Updated by dbt_marts after every mart built and passed its tests."""
