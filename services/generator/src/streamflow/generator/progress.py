"""Progress of a Kafka run: the Prometheus gauges and counters, and the progress lines on stderr.

The sink counts deliveries, errors and re-sends cumulatively; each report moves the metrics by
what changed since the previous one and tells readiness whether deliveries got through (a
timed-out, re-sent record counts as a failed delivery: the broker is away).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from streamflow.generator.kafka_sink import KafkaSink
from streamflow.generator.metrics import GeneratorMetrics


class Progress:
    """Reports every ``interval`` seconds (or when forced) what the run has sent so far."""

    def __init__(
        self,
        metrics: GeneratorMetrics,
        interval: float,
        log: Callable[[str], None] | None,
        started: float,
    ) -> None:
        self.metrics = metrics
        self.interval = interval
        self.log = log
        """Where progress lines go; None: metrics only (``--quiet``)."""
        self._last = started
        self._sent_seen = 0
        self._delivered_seen = 0
        self._errors_seen = 0
        self._resent_seen = 0

    def report(
        self,
        sink: KafkaSink,
        *,
        sent: int,
        event_ms: int,
        counts: dict[str, int],
        force: bool = False,
    ) -> None:
        """Update the metrics and log a line, unless the last report is under ``interval`` ago."""
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        elapsed = max(now - self._last, 1e-9)
        rate = (sent - self._sent_seen) / elapsed
        self._sent_seen, self._last = sent, now
        self.metrics.rate.set(rate)
        self.metrics.event_time.set(event_ms / 1000)
        delivered, errors, resent = sink.delivered, sink.errors, sink.resent
        self.metrics.delivered.inc(max(0, delivered - self._delivered_seen))
        self.metrics.errors.inc(max(0, errors - self._errors_seen))
        self.metrics.resent.inc(max(0, resent - self._resent_seen))
        # a timed-out (re-sent) record is a failed delivery for readiness: the broker is away
        self.metrics.note_deliveries(
            delivered - self._delivered_seen,
            errors - self._errors_seen + resent - self._resent_seen,
        )
        self._delivered_seen, self._errors_seen = delivered, errors
        self._resent_seen = resent
        if self.log is not None:
            event_time = datetime.fromtimestamp(event_ms / 1000, tz=UTC).isoformat()
            self.log(
                f"[generator] sent={sent} rate={rate:,.0f}/s delivered={delivered} "
                f"errors={errors} resent={resent} malformed={counts['malformed']} "
                f"feedback={counts['feedback']} event_time={event_time}"
            )
