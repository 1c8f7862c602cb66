"""Loopback TCP ports for the processes that tests and benches start (nothing else binds them)."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
"""Where Linux says which ports it hands to outgoing connections."""
LOWEST_PICKED = 20_000
"""Picked ports start here: above every default service port (8000-9999, 15000-19093; ADR 0137)."""
DEFAULT_EPHEMERAL_START = 32_768
"""Linux's default start of the ephemeral range, when the range cannot be read."""
ATTEMPTS = 64


def ephemeral_start(path: Path = EPHEMERAL_RANGE) -> int:
    """The first port the OS may give an outgoing connection."""
    try:
        return int(path.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_START


def free_loopback_port(path: Path = EPHEMERAL_RANGE) -> int:
    """A port on 127.0.0.1 that nothing listens on right now, below the OS's ephemeral range.

    A port the OS picks (bind to 0) comes from the ephemeral range, which outgoing connections
    (Kafka clients, database pools) draw from too: one can take the port before the server it was
    picked for binds it, which stopped a scorer start-up once under a busy fault run (its Flink
    REST endpoint, issue #20). Below that range only another listener can. When the range leaves
    no room (or every try is taken), the OS picks.
    """
    top = ephemeral_start(path)
    if top - LOWEST_PICKED >= ATTEMPTS:
        for _ in range(ATTEMPTS):
            port = random.randrange(LOWEST_PICKED, top)
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        picked: int = sock.getsockname()[1]
        return picked
