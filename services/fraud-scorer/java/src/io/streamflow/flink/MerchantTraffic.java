/*
 * StreamFlow: a merchant's payments per UTC day, counted in merchant-keyed state in the JVM and
 * handed to the customer-keyed Python scorer with each record (docs/adr/0058).
 *
 * The Python mirror is streamflow.scoring.context.MerchantTraffic (the backtest's and training's
 * copy); both keep the same day buckets and read whole days before the record's day, so the count
 * does not depend on the order one day's payments arrive in. The job's parity test compares them.
 */
package io.streamflow.flink;

import java.io.IOException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Input: {@code Row(customer_key, value)} keyed by {@link MerchantKey}. Output: {@code
 * Row(customer_key, counts + SEPARATOR + value)} where {@code counts} is "c1,c7,c30", the
 * merchant's payments in the 1, 7 and 30 whole UTC days before the record's day (empty when the
 * record's {@code event_time} is unreadable: that record is not counted, and the scorer
 * dead-letters it). The record is counted after its own counts are read.
 */
public final class MerchantTraffic extends KeyedProcessFunction<String, Row, Row> {
    private static final long serialVersionUID = 1L;
    /** Must equal streamflow.scoring.context.WINDOW_DAYS. */
    static final int[] WINDOW_DAYS = {1, 7, 30};
    /** Day buckets kept: the longest window plus the current day. */
    static final int TRAFFIC_DAYS = 31;
    /** Ends the counts; never part of them, so the first one in a record is this one. */
    public static final char SEPARATOR = '\u001e';
    private static final String TIME_FIELD = "event_time";
    private static final long DAY_SECONDS = 86_400L;
    private static final long UNREADABLE = Long.MIN_VALUE;

    private final long ttlDays;
    private transient ValueState<long[]> buckets;
    private transient JsonFactory factory;

    /** @param ttlDays a merchant's counts are dropped after this many days without a payment */
    public MerchantTraffic(long ttlDays) {
        this.ttlDays = ttlDays;
    }

    @Override
    public void open(OpenContext context) {
        ValueStateDescriptor<long[]> descriptor =
                new ValueStateDescriptor<>(
                        "merchant-traffic", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);
        descriptor.enableTimeToLive(
                StateTtlConfig.newBuilder(Duration.ofDays(ttlDays))
                        .updateTtlOnCreateAndWrite()
                        .neverReturnExpired()
                        .cleanupFullSnapshot()
                        .build());
        buckets = getRuntimeContext().getState(descriptor);
    }

    @Override
    public void processElement(Row record, Context context, Collector<Row> out)
            throws IOException {
        String value = (String) record.getField(1);
        long day = eventDay(value);
        String counts = "";
        if (day != UNREADABLE) {
            long[] state = buckets.value();
            if (state == null) {
                state = empty();
            }
            counts = before(state, day);
            add(state, day);
            buckets.update(state);
        }
        out.collect(Row.of(record.getField(0), counts + SEPARATOR + value));
    }

    /** Fresh buckets: days {@code [0, TRAFFIC_DAYS)} hold -1, counts 0. */
    public static long[] empty() {
        long[] state = new long[2 * TRAFFIC_DAYS];
        Arrays.fill(state, 0, TRAFFIC_DAYS, -1L);
        return state;
    }

    /** Count one payment on {@code day}; a day older than its slot holds is dropped. */
    public static void add(long[] state, long day) {
        int slot = (int) Math.floorMod(day, (long) TRAFFIC_DAYS);
        long held = state[slot];
        if (held == day) {
            state[TRAFFIC_DAYS + slot] += 1;
        } else if (held < day) {
            state[slot] = day;
            state[TRAFFIC_DAYS + slot] = 1;
        }
    }

    /** "c1,c7,c30": payments in the whole days before {@code today}, per window. */
    public static String before(long[] state, long today) {
        long[] totals = new long[WINDOW_DAYS.length];
        for (int slot = 0; slot < TRAFFIC_DAYS; slot++) {
            long age = today - state[slot];
            if (age > 0 && age <= TRAFFIC_DAYS) {
                for (int i = 0; i < WINDOW_DAYS.length; i++) {
                    if (age <= WINDOW_DAYS[i]) {
                        totals[i] += state[TRAFFIC_DAYS + slot];
                    }
                }
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < totals.length; i++) {
            if (i > 0) {
                text.append(',');
            }
            text.append(totals[i]);
        }
        return text.toString();
    }

    /** The UTC day (days since 1970-01-01) of the value's event_time; MIN_VALUE if unreadable. */
    public long eventDay(String value) {
        if (factory == null) {
            factory = new JsonFactory();
        }
        String text = RawFields.string(factory, value, TIME_FIELD);
        if (text.length() > 10 && text.charAt(10) == ' ') {
            text = text.substring(0, 10) + 'T' + text.substring(11);
        }
        try {
            return Math.floorDiv(OffsetDateTime.parse(text).toEpochSecond(), DAY_SECONDS);
        } catch (DateTimeParseException e) {
            return UNREADABLE;
        }
    }
}
