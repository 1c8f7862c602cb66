"""StreamFlow's test and audit harness (dev only, never shipped in an image or a service).

``fixtures``: the pytest fixtures for the real local Kafka, PostgreSQL and MLflow registry (a
pytest plugin, loaded by the root ``conftest.py``); ``accounting``: the exact per-stage audit of
the pipeline that ``make demo``, the fault runs and the crash matrix print.
"""
