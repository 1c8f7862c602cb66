/*
 * StreamFlow: top-level string fields of a raw transactions.raw value, read in the JVM without
 * building a tree (the customer key of the source, the merchant key and event time of the
 * merchant-traffic operator).
 */
package io.streamflow.flink;

import java.io.IOException;
import java.util.Arrays;

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
        return strings(factory, value, field)[0];
    }

    /**
     * The top-level strings of {@code fields} in one pass over {@code value}, each as {@link
     * #string} reads it: all {@code ""} when the value is not one well-formed JSON object.
     */
    static String[] strings(JsonFactory factory, String value, String... fields) {
        String[] found = new String[fields.length];
        Arrays.fill(found, "");
        try (JsonParser parser = factory.createParser(value)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return unread(found);
            }
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                int wanted = indexOf(fields, parser.currentName());
                JsonToken next = parser.nextToken();
                if (wanted >= 0) {
                    found[wanted] = next == JsonToken.VALUE_STRING ? parser.getText() : "";
                } else {
                    parser.skipChildren();
                }
            }
            if (token != JsonToken.END_OBJECT || parser.nextToken() != null) {
                return unread(found);
            }
            return found;
        } catch (IOException | RuntimeException e) {
            return unread(found);
        }
    }

    private static int indexOf(String[] fields, String name) {
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static String[] unread(String[] found) {
        Arrays.fill(found, "");
        return found;
    }
}
