/*
 * StreamFlow: top-level string fields of a raw transactions.raw value, read in the JVM without
 * building a tree (the customer key of the source, the merchant key and event time of the
 * merchant-traffic operator).
 */
package io.streamflow.flink;

import java.io.IOException;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;

/** Reads one top-level string field of a JSON object, as the Python scorer would see it. */
final class RawFields {
    private RawFields() {}

    /**
     * The top-level {@code field} string of {@code value} (the last one if it repeats), or
     * {@code ""} when the value is not one well-formed JSON object or the field is missing or
     * not a string.
     */
    static String string(JsonFactory factory, String value, String field) {
        String found = "";
        try (JsonParser parser = factory.createParser(value)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return "";
            }
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                boolean wanted = field.equals(parser.currentName());
                JsonToken next = parser.nextToken();
                if (wanted) {
                    found = next == JsonToken.VALUE_STRING ? parser.getText() : "";
                } else {
                    parser.skipChildren();
                }
            }
            if (token != JsonToken.END_OBJECT || parser.nextToken() != null) {
                return "";
            }
            return found;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
