"""``streamflow-alert-api``: serve the API with uvicorn (host, port, workers from settings)."""

from __future__ import annotations

import logging
import sys

import uvicorn
from fastapi import FastAPI

from streamflow.alert_api.config import Settings
from streamflow.platform.settings import SettingsError, load_settings


def factory() -> FastAPI:
    """Build the app from the environment (each worker process calls this)."""
    from streamflow.alert_api.app import create_app

    return create_app(load_settings(Settings))


def main() -> None:
    """Entry point of the console script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(Settings)
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
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


if __name__ == "__main__":
    main()
