/*
 * StreamFlow: the merchant key and UTC event day of a customer-keyed raw record, read once in the
 * source's task so the merchant-traffic hop neither parses JSON nor dates (docs/adr/0058, 0128).
 */
package io.streamflow.flink;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.types.Row;

/**
 * {@code Row(customer_key, value)} to {@code Row(customer_key, value, merchant_key, event_day)}:
 * the top-level {@code merchant_id} string ({@code ""} if none, as the scorer's reader gives it)
 * and the UTC day of the top-level {@code event_time} ({@link #UNREADABLE} if it is not an
 * ISO-8601 time with an offset), both from one pass over the JSON.
 */
public final class MerchantFields implements MapFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** The event day of a record whose {@code event_time} cannot be read. */
    public static final long UNREADABLE = Long.MIN_VALUE;
    /** The produced rows' type. */
    public static final TypeInformation<Row> TYPE =
            Types.ROW(Types.STRING, Types.STRING, Types.STRING, Types.LONG);

    private static final String MERCHANT = "merchant_id";
    private static final String TIME = "event_time";
    private static final long DAY_SECONDS = 86_400L;

    private transient JsonFactory factory;

    @Override
    public Row map(Row record) {
        String value = (String) record.getField(1);
        if (factory == null) {
            factory = new JsonFactory();
        }
        String[] fields = RawFields.strings(factory, value, MERCHANT, TIME);
        return Row.of(record.getField(0), value, fields[0], eventDay(fields[1]));
    }

    /**
     * The UTC day (days since 1970-01-01) of an ISO-8601 time with an offset, as {@link
     * #parsedDay} gives it. The common spelling ({@code yyyy-MM-ddTHH:mm:ss[.f]} then {@code Z}
     * or {@code ±HH:MM}) is read by hand; anything else goes to {@code OffsetDateTime.parse}.
     */
    public static long eventDay(String text) {
        long day = commonDay(text);
        return day != UNREADABLE ? day : parsedDay(text);
    }

    /** The day through {@code OffsetDateTime.parse}, a space allowed for the {@code T}. */
    public static long parsedDay(String text) {
        if (text.length() > 10 && text.charAt(10) == ' ') {
            text = text.substring(0, 10) + 'T' + text.substring(11);
        }
        try {
            return Math.floorDiv(OffsetDateTime.parse(text).toEpochSecond(), DAY_SECONDS);
        } catch (DateTimeParseException e) {
            return UNREADABLE;
        }
    }

    /** The day of the common spelling, or {@link #UNREADABLE} when it is not that spelling. */
    public static long commonDay(String t) {
        int n = t.length();
        if (n < 20 || n > 35) {
            return UNREADABLE;
        }
        char sep = t.charAt(10);
        if (t.charAt(4) != '-' || t.charAt(7) != '-' || (sep != 'T' && sep != ' ')
                || t.charAt(13) != ':' || t.charAt(16) != ':') {
            return UNREADABLE;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = digits(t, 11, 2);
        int minute = digits(t, 14, 2);
        int second = digits(t, 17, 2);
        if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0
                || minute > 59 || second < 0 || second > 59) {
            return UNREADABLE;
        }
        int i = 19;
        if (t.charAt(i) == '.') {
            int start = ++i;
            while (i < n && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
                i++;
            }
            if (i - start < 1 || i - start > 9) {
                return UNREADABLE;
            }
        }
        int offset = offsetSeconds(t, i);
        if (offset == Integer.MIN_VALUE) {
            return UNREADABLE;
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return UNREADABLE;
        }
        long seconds = epochDay * DAY_SECONDS + hour * 3_600L + minute * 60L + second - offset;
        return Math.floorDiv(seconds, DAY_SECONDS);
    }

    /** {@code Z} or {@code ±HH:MM} ending the text at {@code i}; MIN_VALUE for anything else. */
    private static int offsetSeconds(String t, int i) {
        int n = t.length();
        if (i == n - 1 && t.charAt(i) == 'Z') {
            return 0;
        }
        if (i != n - 6 || t.charAt(i + 3) != ':') {
            return Integer.MIN_VALUE;
        }
        char sign = t.charAt(i);
        int hours = digits(t, i + 1, 2);
        int minutes = digits(t, i + 4, 2);
        if ((sign != '+' && sign != '-') || hours < 0 || hours > 17 || minutes < 0 || minutes > 59
                || (sign == '-' && hours == 0 && minutes == 0)) {
            return Integer.MIN_VALUE;
        }
        int seconds = hours * 3_600 + minutes * 60;
        return sign == '+' ? seconds : -seconds;
    }

    /** The decimal number of {@code count} ASCII digits at {@code start}, or -1. */
    private static int digits(String t, int start, int count) {
        int number = 0;
        for (int i = start; i < start + count; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            number = number * 10 + (c - '0');
        }
        return number;
    }
}
