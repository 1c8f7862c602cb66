/*
 * StreamFlow: transactions.raw records as Row(customer_key, value), keyed in the JVM.
 *
 * PyFlink's key_by adds a Python operator (AddKey) in front of every keyed stream: one more
 * Java->Python->Java hand-off per record, on another task thread that competes with the scorer
 * for the GIL. This deserializer produces the same Row(key, value) shape in Java instead, so the
 * job can key the stream with Flink's own KeyByKeySelector and no Python runs before the scorer.
 * See docs/adr/0045-scoring-job-topology.md.
 */
package io.streamflow.flink;

import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Reads a Kafka record's value as UTF-8 text and emits {@code Row(customerKey, value)}.
 *
 * <p>The key is the top-level {@code customer_id} string of the JSON object (the last one if the
 * field repeats), or {@code ""} when the value is not one well-formed JSON object or the field is
 * missing or not a string: exactly what the Python scorer's {@code customer_key} returned. The
 * scorer validates the whole record afterwards and dead-letters what fails; the key only decides
 * which customer's state a record may touch. A record without a value (a tombstone) becomes
 * {@code Row("", "")}, which the scorer dead-letters as malformed instead of failing the job.
 */
public final class CustomerKeyedRecords implements KafkaRecordDeserializationSchema<Row> {
    private static final long serialVersionUID = 1L;
    private static final String FIELD = "customer_id";

    private transient JsonFactory factory;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Row> out) {
        byte[] bytes = record.value();
        String value = bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
        out.collect(Row.of(customerKey(value), value));
    }

    /** The scoring key of one raw value (see the class comment). */
    public String customerKey(String value) {
        if (factory == null) {
            factory = new JsonFactory();
        }
        return RawFields.string(factory, value, FIELD);
    }

    @Override
    public TypeInformation<Row> getProducedType() {
        return Types.ROW(Types.STRING, Types.STRING);
    }
}
