"""StreamFlow PyFlink jobs: Flink pipelines around the plain-Python fraud-scoring core.

This package lives in its own uv project (``flink_jobs/``, pinned ``apache-flink==2.2.1``) because
PyFlink's dependency pins clash with the main workspace. Jobs run in a local MiniCluster in thread
mode with the shaded Kafka connector jar on ``pipeline.jars``; see :mod:`.environment` and
``docs/adr/0004-pyflink-version-pin.md``.
"""
