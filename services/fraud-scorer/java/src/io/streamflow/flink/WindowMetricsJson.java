/*
 * StreamFlow: a closed store window from the job's Flink SQL as its metrics.realtime record, in
 * the JVM, so no second Python operator runs in the job (docs/adr/0048, 0129).
 */
package io.streamflow.flink;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.JsonStringEncoder;
import org.apache.flink.types.Row;

/**
 * {@code Row(store_id, start_ms, size_s, count, cents, frauds)} to {@code Row(store_id, value)}:
 * the {@code WindowMetrics} contract's JSON, byte for byte what the Python contract encodes
 * (field order, datetimes as {@code ...Z} with microseconds only when not whole seconds, sums
 * and means as strings with two decimals, the mean rounded half to even).
 */
public final class WindowMetricsJson implements MapFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** The {@code schema_version} this writes: the Python contract's {@code SCHEMA_VERSION}. */
    private static final int SCHEMA_VERSION = 1;

    private static final DateTimeFormatter SECONDS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

    @Override
    public Row map(Row window) {
        String storeId = (String) window.getField(0);
        long startMs = number(window, 1);
        long endMs = startMs + number(window, 2) * 1000L;
        return Row.of(
                storeId, json(storeId, startMs, endMs, number(window, 3), number(window, 4),
                        number(window, 5)));
    }

    /** The JSON of one window: {@code count} transactions, {@code cents} in all. */
    public static String json(
            String storeId, long startMs, long endMs, long count, long cents, long frauds) {
        StringBuilder out = new StringBuilder(224);
        out.append("{\"schema_version\":").append(SCHEMA_VERSION);
        out.append(",\"window_start\":\"");
        time(out, startMs).append("\",\"window_end\":\"");
        time(out, endMs).append("\",\"window_seconds\":").append((endMs - startMs) / 1000L);
        out.append(",\"store_id\":\"");
        JsonStringEncoder.getInstance().quoteAsString(storeId, out);
        out.append("\",\"count\":").append(count);
        out.append(",\"amount_sum\":\"").append(BigDecimal.valueOf(cents, 2).toPlainString());
        out.append("\",\"amount_avg\":\"").append(mean(cents, count).toPlainString());
        out.append("\",\"fraud_count\":").append(frauds).append('}');
        return out.toString();
    }

    /** The mean amount in currency units, two decimals, half to even ({@code 0.00} if none). */
    private static BigDecimal mean(long cents, long count) {
        if (count == 0) {
            return BigDecimal.valueOf(0, 2);
        }
        BigDecimal total = BigDecimal.valueOf(cents, 2);
        return total.divide(BigDecimal.valueOf(count), 2, RoundingMode.HALF_EVEN);
    }

    private static StringBuilder time(StringBuilder out, long epochMs) {
        Instant instant = Instant.ofEpochMilli(epochMs);
        out.append(SECONDS.format(instant));
        int millis = (int) Math.floorMod(epochMs, 1000L);
        if (millis != 0) {
            // as Python writes a datetime: microseconds, six digits
            out.append('.').append(String.format("%03d000", millis));
        }
        return out.append('Z');
    }

    private static long number(Row row, int field) {
        return ((Number) row.getField(field)).longValue();
    }
}
