"""Drift tests: every place that repeats a record's shape agrees with the pydantic contracts."""
