/*
 * StreamFlow: the merchant key of a customer-keyed Row(customer_key, value) record, for the
 * merchant-traffic operator (docs/adr/0058).
 */
package io.streamflow.flink;

import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.types.Row;

/** Keys a record by the top-level {@code merchant_id} string of its value ({@code ""} if none). */
public final class MerchantKey implements KeySelector<Row, String> {
    private static final long serialVersionUID = 1L;
    private static final String FIELD = "merchant_id";

    private transient JsonFactory factory;

    @Override
    public String getKey(Row record) {
        return merchantKey((String) record.getField(1));
    }

    /** The merchant key of one raw value. */
    public String merchantKey(String value) {
        if (factory == null) {
            factory = new JsonFactory();
        }
        return RawFields.string(factory, value, FIELD);
    }
}
