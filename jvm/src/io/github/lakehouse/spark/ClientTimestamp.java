package io.github.lakehouse.spark;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneRules;
import org.apache.spark.sql.api.java.UDF1;

/**
 * A client's event time in the shapes nearly every client sends, as microseconds since the
 * epoch; null for any other text, which the caller then reads with Spark's formats
 * ({@code transformations.events.parse_timestamp}). The shapes, exactly, with nothing around
 * them:
 * <ul>
 *   <li>1 to 11 digits: seconds since the epoch; 12 or 13 digits: milliseconds;</li>
 *   <li>{@code yyyy-MM-ddTHH:mm:ss.SSSZ} and {@code yyyy-MM-ddTHH:mm:ss.SSS+HH:MM} (or
 *       {@code -HH:MM}, at most 18 hours);</li>
 *   <li>{@code yyyy-MM-dd HH:mm:ss.SSS}, in the session's time zone when that zone has one
 *       fixed offset (UTC, as the project's sessions have); otherwise left to the formats.</li>
 * </ul>
 * The year is 1000 to 9999, and the date and time must exist (no 30 February, hour 24 or
 * second 60): any other text, upper case aside, gets null here and its answer from the
 * formats. For the text it reads, the answer is the formats' answer (a unit test holds the
 * two to the same instant over a grid of such strings). Spark's formats go through
 * {@code java.time}'s parser for each line; this reads fixed positions.
 */
public final class ClientTimestamp implements UDF1<String, Long> {
    private static final long serialVersionUID = 1L;
    private static final long MICROS = 1_000_000L;
    private static final int MAX_OFFSET_SECONDS = 18 * 3600;

    /** The offset of text without one: the session zone's, if it never changes; else null. */
    private final ZoneOffset naiveOffset;

    /** @param zone the time zone of text without an offset (Spark's session time zone) */
    public ClientTimestamp(String zone) {
        ZoneRules rules = ZoneId.of(zone).getRules();
        this.naiveOffset = rules.isFixedOffset() ? rules.getOffset(Instant.EPOCH) : null;
    }

    @Override
    public Long call(String text) {
        if (text == null) {
            return null;
        }
        int length = text.length();
        if (length >= 1 && length <= 13 && digits(text, 0, length)) {
            long number = Long.parseLong(text);
            return length >= 12 ? number * 1000L : number * MICROS;
        }
        if (length == 24 && text.charAt(10) == 'T' && text.charAt(23) == 'Z') {
            return dateTime(text, 0);
        }
        if (length == 29 && text.charAt(10) == 'T' && text.charAt(26) == ':') {
            char sign = text.charAt(23);
            if ((sign != '+' && sign != '-') || !digits(text, 24, 26) || !digits(text, 27, 29)) {
                return null;
            }
            int hours = number(text, 24, 26);
            int minutes = number(text, 27, 29);
            int offset = hours * 3600 + minutes * 60;
            if (minutes > 59 || offset > MAX_OFFSET_SECONDS) {
                return null;
            }
            return dateTime(text, sign == '+' ? offset : -offset);
        }
        if (length == 23 && text.charAt(10) == ' ') {
            return naiveOffset == null ? null : dateTime(text, naiveOffset.getTotalSeconds());
        }
        return null;
    }

    /** yyyy-MM-dd?HH:mm:ss.SSS at the start of `text`, less `offsetSeconds`; null if it is not one. */
    private static Long dateTime(String text, int offsetSeconds) {
        if (!digits(text, 0, 4) || text.charAt(4) != '-' || !digits(text, 5, 7) || text.charAt(7) != '-'
                || !digits(text, 8, 10) || !digits(text, 11, 13) || text.charAt(13) != ':'
                || !digits(text, 14, 16) || text.charAt(16) != ':' || !digits(text, 17, 19)
                || text.charAt(19) != '.' || !digits(text, 20, 23)) {
            return null;
        }
        int year = number(text, 0, 4);
        int hour = number(text, 11, 13);
        int minute = number(text, 14, 16);
        int second = number(text, 17, 19);
        if (year < 1000 || hour > 23 || minute > 59 || second > 59) {
            return null;
        }
        long day;
        try {
            day = LocalDate.of(year, number(text, 5, 7), number(text, 8, 10)).toEpochDay();
        } catch (DateTimeException noSuchDate) {
            return null;
        }
        long seconds = day * 86_400L + hour * 3600L + minute * 60L + second - offsetSeconds;
        return seconds * MICROS + number(text, 20, 23) * 1000L;
    }

    private static boolean digits(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static int number(String text, int from, int to) {
        int value = 0;
        for (int i = from; i < to; i++) {
            value = value * 10 + (text.charAt(i) - '0');
        }
        return value;
    }
}
