/*
 * StreamFlow: the store windows' feed row of one scored transaction, read from the scored record in
 * the JVM (docs/adr/0048, 0070).
 *
 * The scorer used to emit this row as a Python side output: one more Java<->Python conversion and
 * call per event, with the windows' local aggregation running inside that call. The scored record
 * already holds every field, so the feed is derived from it after the Python call returns.
 */
package io.streamflow.flink;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.OffsetDateTime;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Input: {@code Row(customer_id, value)} with a {@code transactions.scored} value. Output: {@code
 * Row(store_id, event_ms, amount_cents, fraud_count)}: the transaction's store, its event time in
 * epoch milliseconds, its amount in cents (half-even, as the Python {@code to_cents}) and 1 if it
 * raised an alert, else 0. The scorer only writes records it validated, so a value that does not
 * hold these fields is a bug: it is left out of the windows (never fails the job) and counted.
 */
public final class ScoredFeed implements FlatMapFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private transient JsonFactory factory;
    private long unreadable;

    @Override
    public void flatMap(Row record, Collector<Row> out) {
        Row row = feed((String) record.getField(1));
        if (row != null) {
            out.collect(row);
        } else {
            unreadable++;
        }
    }

    /** Scored values left out so far because they lacked a field (a bug if ever non-zero). */
    public long unreadable() {
        return unreadable;
    }

    /** The feed row of one scored value, or null if it lacks a field. */
    public Row feed(String value) {
        if (factory == null) {
            factory = new JsonFactory();
        }
        String store = null;
        String when = null;
        String amount = null;
        Boolean alert = null;
        try (JsonParser parser = factory.createParser(value)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME && alert == null) {
                String name = parser.currentName();
                JsonToken token = parser.nextToken();
                if ("transaction".equals(name) && token == JsonToken.START_OBJECT) {
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String field = parser.currentName();
                        JsonToken inner = parser.nextToken();
                        if (inner == JsonToken.VALUE_STRING && "store_id".equals(field)) {
                            store = parser.getText();
                        } else if (inner == JsonToken.VALUE_STRING && "event_time".equals(field)) {
                            when = parser.getText();
                        } else if ("amount".equals(field) && inner.isScalarValue()) {
                            amount = parser.getText();
                        } else {
                            parser.skipChildren();
                        }
                    }
                } else if ("is_alert".equals(name) && token.isBoolean()) {
                    alert = token == JsonToken.VALUE_TRUE;
                } else {
                    parser.skipChildren();
                }
            }
            if (store == null || when == null || amount == null || alert == null) {
                return null;
            }
            return Row.of(store, epochMillis(when), cents(amount), alert ? 1 : 0);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Epoch milliseconds of an RFC 3339 time, floored (sub-millisecond digits dropped). */
    static long epochMillis(String text) {
        Instant instant = OffsetDateTime.parse(text).toInstant();
        return instant.getEpochSecond() * 1000L + instant.getNano() / 1_000_000;
    }

    /** An amount's integer cents, rounded half-even. */
    static long cents(String text) {
        BigDecimal amount = new BigDecimal(text).movePointRight(2);
        return amount.setScale(0, RoundingMode.HALF_EVEN).longValueExact();
    }
}
