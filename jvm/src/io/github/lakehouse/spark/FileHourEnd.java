package io.github.lakehouse.spark;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.api.java.UDF1;

/**
 * The end of the hour named in a file's name, in seconds since the epoch: the first
 * {@code yyyy-MM-ddTHH} in the name after the last '/', read in the given time zone, plus one
 * hour; null if the name has none or it is no real hour (month 13, 30 February, hour 24).
 *
 * <p>Every line of a file has the same answer and a task reads a file's lines one after
 * another, so the last path and its answer are kept: a line costs one string comparison, not a
 * regex search and a date parse. The same answers as Spark's
 * {@code try_to_timestamp(regexp_extract(substring_index(path, '/', -1), ...), "yyyy-MM-dd'T'HH")
 * + INTERVAL 1 HOUR}.
 */
public final class FileHourEnd implements UDF1<String, Long> {
    private static final long serialVersionUID = 1L;
    private static final Pattern STAMP = Pattern.compile("(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2})");

    /** A path and its answer; replaced whole, so a task sharing the function never sees half of one. */
    private static final class Last {
        final String path;
        final Long hourEnd;

        Last(String path, Long hourEnd) {
            this.path = path;
            this.hourEnd = hourEnd;
        }
    }

    private final String zone;
    private transient ZoneId zoneId;
    private transient Last last;

    /** @param zone the time zone of the hours in file names (Spark's session time zone) */
    public FileHourEnd(String zone) {
        this.zone = zone;
        this.zoneId = ZoneId.of(zone);
    }

    @Override
    public Long call(String path) {
        if (path == null) {
            return null;
        }
        Last seen = last;
        if (seen != null && seen.path.equals(path)) {
            return seen.hourEnd;
        }
        Long hourEnd = hourEnd(path.substring(path.lastIndexOf('/') + 1));
        last = new Last(path, hourEnd);
        return hourEnd;
    }

    private Long hourEnd(String name) {
        Matcher stamp = STAMP.matcher(name);
        if (!stamp.find()) {
            return null;
        }
        if (zoneId == null) {
            zoneId = ZoneId.of(zone);
        }
        try {
            LocalDateTime hour = LocalDateTime.of(Integer.parseInt(stamp.group(1)), Integer.parseInt(stamp.group(2)),
                    Integer.parseInt(stamp.group(3)), Integer.parseInt(stamp.group(4)), 0);
            return hour.atZone(zoneId).toEpochSecond() + 3600L;
        } catch (DateTimeException notAnHour) {
            return null;
        }
    }
}
