"""The generator's probe endpoints and metrics, over real HTTP on loopback."""

from __future__ import annotations

import urllib.error
import urllib.request

from streamflow.generator.metrics import GeneratorMetrics
from streamflow.platform.ports import free_loopback_port


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_probes_and_metrics_follow_deliveries() -> None:
    metrics = GeneratorMetrics()
    port = free_loopback_port()
    server = metrics.serve("127.0.0.1", port)
    assert server is not None
    try:
        assert _get(port, "/healthz") == (200, "ok")
        assert _get(port, "/readyz") == (200, "ready")
        metrics.delivered.inc(3)
        status, body = _get(port, "/metrics")
        assert status == 200
        assert "streamflow_generator_records_delivered_total 3.0" in body
        assert _get(port, "/other")[0] == 404
        # a progress interval where every delivery failed: not ready until one gets through
        metrics.note_deliveries(0, 5)
        assert _get(port, "/readyz") == (503, "kafka deliveries failing")
        assert _get(port, "/healthz")[0] == 200
        metrics.note_deliveries(0, 0)
        assert _get(port, "/readyz")[0] == 503
        metrics.note_deliveries(2, 1)
        assert _get(port, "/readyz") == (200, "ready")
    finally:
        server.shutdown()
        server.server_close()


def test_port_zero_serves_nothing() -> None:
    assert GeneratorMetrics().serve("127.0.0.1", 0) is None
