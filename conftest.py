"""Repository-wide pytest setup: the real-infrastructure fixtures are available to every test.

Property tests (Hypothesis) run the same examples on every run by default, so a red CI run
reproduces anywhere; ``HYPOTHESIS_PROFILE=explore`` searches new examples (run it when changing
the code under test).
"""

import os

pytest_plugins = ["streamflow.testkit.fixtures"]

try:
    from hypothesis import settings
except ImportError:  # the Airflow environment has no property tests
    pass
else:
    settings.register_profile("ci", derandomize=True)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
