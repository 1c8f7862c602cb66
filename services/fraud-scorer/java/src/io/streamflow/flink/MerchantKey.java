/*
 * StreamFlow: the merchant key of a Row(customer_key, value, merchant_key, event_day) record, for
 * the merchant-traffic operator (docs/adr/0058, 0128).
 */
package io.streamflow.flink;

import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.types.Row;

/** Keys a {@link MerchantFields} row by the merchant key it carries (field 2). */
public final class MerchantKey implements KeySelector<Row, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public String getKey(Row record) {
        return (String) record.getField(2);
    }
}
