"""Loopback TCP ports for the processes that tests and benches start (nothing else binds them)."""

from __future__ import annotations

import socket


def free_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
