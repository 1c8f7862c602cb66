"""``streamflow-alert-api``: serve the API with uvicorn (host, port, workers from settings)."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import sys
import tempfile

import uvicorn
from fastapi import FastAPI

from streamflow.alert_api.config import Settings
from streamflow.platform.settings import SettingsError, load_settings


def factory() -> FastAPI:
    """Build the app from the environment (each worker process calls this).

    Everything alive once the app is built (modules, FastAPI's routes and models, pydantic
    validators: most of the heap) is moved out of the garbage collector's reach with
    ``gc.freeze``: a full collection walked all of it and paused a worker for 50-65 ms every
    few seconds under load, which set the p99 latency (ADR 0054).
    """
    from streamflow.alert_api.app import create_app

    app = create_app(load_settings(Settings))
    gc.collect()
    gc.freeze()
    return app


def main() -> None:
    """Entry point of the console script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(Settings)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
    multiprocess_dir = None
    if settings.metrics_port and settings.workers > 1:
        # Before prometheus_client is first imported here and in every (spawned) worker: their
        # metrics go to files in this directory, which the /metrics server below sums.
        multiprocess_dir = tempfile.mkdtemp(prefix="streamflow-alert-api-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiprocess_dir
    try:
        if settings.metrics_port:
            from streamflow.alert_api.telemetry import serve_metrics

            try:
                serve_metrics(settings.metrics_host, settings.metrics_port, multiprocess_dir)
            except OSError as exc:
                print(
                    f"cannot serve /metrics on {settings.metrics_host}:{settings.metrics_port} "
                    f"(STREAMFLOW_API_METRICS_PORT; 0 turns it off): {exc}",
                    file=sys.stderr,
                )
                raise SystemExit(2) from None
        uvicorn.run(
            "streamflow.alert_api.__main__:factory",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            proxy_headers=False,
            server_header=False,
        )
    finally:
        if multiprocess_dir is not None:
            shutil.rmtree(multiprocess_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
