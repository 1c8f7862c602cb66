/*
 * StreamFlow: a merchant's payments per UTC day, counted in merchant-keyed state in the JVM and
 * handed to the customer-keyed Python scorer with each record (docs/adr/0058, 0128).
 *
 * The Python mirror is streamflow.scoring.context.MerchantTraffic (the backtest's and training's
 * copy); both keep the same day buckets and read whole days before the record's day, so the count
 * does not depend on the order one day's payments arrive in. The job's parity test compares them.
 */
package io.streamflow.flink;

import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.types.Row;

/**
 * Input: {@link MerchantFields} rows keyed by {@link MerchantKey}. Output: {@code
 * Row(customer_key, counts + SEPARATOR + value)} where {@code counts} is "c1,c7,c30", the
 * merchant's payments in the 1, 7 and 30 whole UTC days before the record's day (empty when the
 * record's {@code event_time} is unreadable: that record is not counted, and the scorer
 * dead-letters it). The record is counted after its own counts are read.
 *
 * <p>The buckets of the {@code heldMerchants} most recently active merchants stay in memory in
 * front of Flink's state: a held merchant's record neither reads nor writes it. Flink's state stays
 * the source of truth: every changed merchant is written to it before each checkpoint's barrier
 * ({@link #prepareSnapshotPreBarrier}), when it leaves memory, and at the end of input, so a
 * checkpoint holds every record before its barrier; {@link #open} (a start, a restore) begins with
 * nothing held. A merchant held unchanged for longer than the state TTL since it was written is
 * read again (Flink would have expired it). With {@code heldMerchants} 0, every record reads and
 * writes the state.
 */
public final class MerchantTraffic extends AbstractStreamOperator<Row>
        implements OneInputStreamOperator<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** Must equal streamflow.scoring.context.WINDOW_DAYS. */
    static final int[] WINDOW_DAYS = {1, 7, 30};
    /** Day buckets kept: the longest window plus the current day. */
    static final int TRAFFIC_DAYS = 31;
    /** Ends the counts; never part of them, so the first one in a record is this one. */
    public static final char SEPARATOR = '\u001e';
    /** Flink counters are updated every this many records (each update is cheap, not free). */
    private static final int COUNT_EVERY = 1_024;

    private final long ttlDays;
    private final int heldMerchants;
    private transient long ttlMillis;
    private transient ValueState<long[]> buckets;
    private transient LinkedHashMap<String, Held> held;
    private transient Counter heldCounter;
    private transient Counter readCounter;
    private transient long heldSince;
    private transient long readSince;

    /** A merchant's buckets in memory, whether they changed since written, and when written. */
    private static final class Held {
        final long[] state;
        boolean dirty;
        long writtenAt;

        Held(long[] state, long writtenAt) {
            this.state = state;
            this.writtenAt = writtenAt;
        }
    }

    /**
     * @param ttlDays a merchant's counts are dropped after this many days without a payment
     * @param heldMerchants merchants whose buckets stay in memory (0: none)
     */
    public MerchantTraffic(long ttlDays, int heldMerchants) {
        this.ttlDays = ttlDays;
        this.heldMerchants = heldMerchants;
    }

    @Override
    public void open() throws Exception {
        super.open();
        ValueStateDescriptor<long[]> descriptor =
                new ValueStateDescriptor<>(
                        "merchant-traffic", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);
        descriptor.enableTimeToLive(
                StateTtlConfig.newBuilder(Duration.ofDays(ttlDays))
                        .updateTtlOnCreateAndWrite()
                        .neverReturnExpired()
                        .cleanupFullSnapshot()
                        .build());
        buckets = getKeyedStateStore().getState(descriptor);
        ttlMillis = Duration.ofDays(ttlDays).toMillis();
        held = new LinkedHashMap<>(16, 0.75f, true);
        heldCounter = getMetricGroup().counter("merchantStateHeld");
        readCounter = getMetricGroup().counter("merchantStateReads");
    }

    @Override
    public void processElement(StreamRecord<Row> element) throws Exception {
        Row record = element.getValue();
        String value = (String) record.getField(1);
        long day = (Long) record.getField(3);
        String counts = "";
        if (day != MerchantFields.UNREADABLE) {
            long[] state = heldMerchants > 0 ? heldState((String) record.getField(2)) : read();
            counts = before(state, day);
            add(state, day);
            if (heldMerchants == 0) {
                buckets.update(state);
            }
        }
        output.collect(element.replace(Row.of(record.getField(0), counts + SEPARATOR + value)));
    }

    /** The held, now changed, buckets of the current key (read into memory if need be). */
    private long[] heldState(String merchant) throws Exception {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        Held entry = held.get(merchant);
        if (entry != null && !entry.dirty && now - entry.writtenAt > ttlMillis) {
            held.remove(merchant);
            entry = null;
        }
        if (entry == null) {
            // A copy: the heap state backend returns the object it keeps, and a held array keeps
            // changing while a snapshot may still be writing that object out.
            long[] state = read();
            entry = new Held(Arrays.copyOf(state, state.length), now);
            held.put(merchant, entry);
            if (held.size() > heldMerchants) {
                evictEldest(merchant);
            }
        } else if (++heldSince >= COUNT_EVERY) {
            heldCounter.inc(heldSince);
            heldSince = 0;
        }
        entry.dirty = true;
        return entry.state;
    }

    /** The current key's buckets from Flink's state (fresh ones if it holds none). */
    private long[] read() throws Exception {
        if (++readSince >= COUNT_EVERY) {
            readCounter.inc(readSince);
            readSince = 0;
        }
        long[] state = buckets.value();
        return state == null ? empty() : state;
    }

    /** Drops the least recently active merchant, writing its buckets first if they changed. */
    private void evictEldest(String current) throws Exception {
        Iterator<Map.Entry<String, Held>> eldest = held.entrySet().iterator();
        Map.Entry<String, Held> entry = eldest.next();
        eldest.remove();
        if (entry.getValue().dirty) {
            setCurrentKey(entry.getKey());
            buckets.update(entry.getValue().state);
            setCurrentKey(current);
        }
    }

    /** Writes every changed held merchant to Flink's state (a copy: the held array changes on). */
    private void flush() throws Exception {
        if (held == null || held.isEmpty()) {
            return;
        }
        Object current = getCurrentKey();
        long now = getProcessingTimeService().getCurrentProcessingTime();
        for (Map.Entry<String, Held> entry : held.entrySet()) {
            Held merchant = entry.getValue();
            if (merchant.dirty) {
                setCurrentKey(entry.getKey());
                buckets.update(Arrays.copyOf(merchant.state, merchant.state.length));
                merchant.dirty = false;
                merchant.writtenAt = now;
            }
        }
        if (current != null) {
            setCurrentKey(current);
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
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

}
