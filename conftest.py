"""Repository-wide pytest setup: the real-infrastructure fixtures are available to every test."""

pytest_plugins = ["streamflow.platform.testing"]
