"""The real-time store aggregator of the scoring job, in Flink SQL (runs in the JVM).

The scorer's main output carries one typed feed per scored transaction (``FEED_FIELDS``: store,
event time in epoch milliseconds, amount in cents, alert flag) after its key and value. A Flink
SQL view over that stream assigns event time and bounded out-of-orderness watermarks, and
tumbling-window table functions of every size (1 min, 5 min, 1 h) count them per store. Java
``WindowMetricsJson`` writes each closed window as ``metrics.realtime`` contract JSON: a handful
of rows per store and window, and no Python after the scorer (docs/adr/0048, 0129).
"""

from __future__ import annotations

from typing import Any

from pyflink.common import Types
from pyflink.datastream import DataStream
from pyflink.java_gateway import get_gateway
from pyflink.table import DataTypes, Schema, StreamTableEnvironment

FEED_FIELDS = (
    ("store_id", Types.STRING(), DataTypes.STRING()),
    ("event_ms", Types.LONG(), DataTypes.BIGINT()),
    ("amount_cents", Types.LONG(), DataTypes.BIGINT()),
    ("fraud_count", Types.INT(), DataTypes.INT()),
)
"""One scored transaction as the aggregator sees it (the last fields of the scorer's output):
name, DataStream type, SQL type."""

FEED_VIEW = "store_feed"

# Only ints and this module's view name are formatted in, never outside input.
_WINDOW_SELECT = (
    "SELECT store_id, MIN(event_ms) - MOD(MIN(event_ms), {ms}) AS start_ms, {size} AS size_s, "
    "COUNT(*) AS cnt, SUM(amount_cents) AS cents, SUM(fraud_count) AS frauds "
    "FROM TABLE(TUMBLE(TABLE {view}, DESCRIPTOR(rowtime), INTERVAL '{minutes}' MINUTE)) "
    "GROUP BY store_id, window_start, window_end"
)


def window_query(view: str, sizes_seconds: tuple[int, ...]) -> str:
    """SQL: per store and window, ``(store_id, start_ms, size_s, count, cents, frauds)``.

    ``start_ms`` is computed from the events' own epoch milliseconds (every event of a tumbling
    window floors to its start), so it does not depend on SQL timestamp types or time zones.
    """
    parts = []
    for size in sizes_seconds:
        if size % 60:
            msg = f"window sizes must be whole minutes, got {size} s"
            raise ValueError(msg)
        select = _WINDOW_SELECT.format(view=view, size=size, ms=size * 1000, minutes=size // 60)
        parts.append(select)
    return " UNION ALL ".join(parts)


def store_windows(
    env: Any, feed: Any, sizes_seconds: tuple[int, ...], out_of_orderness_ms: int, output_type: Any
) -> Any:
    """The ``Row(store_id, value)`` stream of closed windows computed from the ``feed`` stream.

    ``feed`` is the scorer's output: ``Row(customer_id, value, <FEED_FIELDS>)``; the SQL reads
    the feed fields only.
    """
    t_env = StreamTableEnvironment.create(env)
    # Tumbling windows align to the session time zone; UTC keeps them on epoch boundaries.
    t_env.get_config().set("table.local-time-zone", "UTC")
    lag_s = f"{out_of_orderness_ms / 1000:.3f}"
    builder = Schema.new_builder()
    builder = builder.column("customer_id", DataTypes.STRING()).column("value", DataTypes.STRING())
    for name, _, sql_type in FEED_FIELDS:
        builder = builder.column(name, sql_type)
    schema = (
        builder.column_by_expression("rowtime", "TO_TIMESTAMP_LTZ(event_ms, 3)")
        .watermark("rowtime", f"rowtime - INTERVAL '{lag_s}' SECOND")
        .build()
    )
    t_env.create_temporary_view(FEED_VIEW, feed, schema)
    closed = t_env.sql_query(window_query(FEED_VIEW, sizes_seconds))
    flink = get_gateway().jvm.io.streamflow.flink
    j_stream = (
        t_env.to_data_stream(closed)
        ._j_data_stream.map(flink.WindowMetricsJson(), output_type.get_java_type_info())
        .name("store-windows-json")
    )
    return DataStream(j_stream)
