"""StreamFlow fraud scorer: the PyFlink scoring job, its settings and its local runner.

Every decision is made by the scoring core (:mod:`streamflow.scoring`); this service adapts Flink
state and records to it. It is its own uv project (``services/fraud-scorer``, pinned
``apache-flink==2.2.1``, outside the root workspace) because PyFlink's dependency pins clash with
the main workspace. Jobs run in a local MiniCluster in thread mode with the shaded Kafka connector
jar on ``pipeline.jars``; see :mod:`.environment`, ``docs/adr/0004-pyflink-version-pin.md`` and
``docs/adr/0120-scoring-package-lab-and-scorer-layout.md``.
"""
