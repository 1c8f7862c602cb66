"""Free loopback ports are picked below the OS's ephemeral range (where clients take theirs)."""

from __future__ import annotations

import random
import re
import socket
from pathlib import Path

import pytest

from streamflow.platform import ports


def range_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ip_local_port_range"
    path.write_text(text, encoding="ascii")
    return path


def bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_port_below_the_ephemeral_range_that_nothing_holds(tmp_path: Path) -> None:
    path = range_file(tmp_path, "32768\t60999\n")
    picked = {ports.free_loopback_port(path) for _ in range(20)}
    assert all(ports.LOWEST_PICKED <= port < 32_768 for port in picked)
    assert all(bindable(port) for port in picked)


def test_the_os_picks_when_the_range_leaves_no_room(tmp_path: Path) -> None:
    path = range_file(tmp_path, "10010 65535")
    port = ports.free_loopback_port(path)
    assert port >= 10_010  # the OS's own pick: inside its range
    assert bindable(port)


def test_the_os_picks_when_every_try_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = range_file(tmp_path, "32768 60999")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        monkeypatch.setattr(random, "randrange", lambda low, high: taken)
        port = ports.free_loopback_port(path)
        assert port != taken
        assert bindable(port)


def test_an_unreadable_range_means_linuxs_default(tmp_path: Path) -> None:
    assert ports.ephemeral_start(tmp_path / "missing") == ports.DEFAULT_EPHEMERAL_START
    assert ports.ephemeral_start(range_file(tmp_path, "garbage")) == 32_768
    assert ports.ephemeral_start(range_file(tmp_path, "20000 30000")) == 20_000


def test_every_default_service_port_is_below_the_picked_and_ephemeral_ports() -> None:
    """scripts/infra/lib.sh's defaults (ADR 0137): a client's ephemeral port can't take them."""
    lib = Path(__file__).resolve().parents[3] / "scripts" / "infra" / "lib.sh"
    defaults = re.findall(
        r'^STREAMFLOW_\w*PORTS?="\$\{STREAMFLOW_\w+:-([\d ]+)\}"', lib.read_text(), re.M
    )
    numbers = [int(port) for text in defaults for port in text.split()]
    # kafka x2, postgres, api, flink, airflow, prometheus, mlflow, metrics x4
    assert len(numbers) >= 10
    assert all(
        1024 < port < ports.LOWEST_PICKED < ports.DEFAULT_EPHEMERAL_START for port in numbers
    )
