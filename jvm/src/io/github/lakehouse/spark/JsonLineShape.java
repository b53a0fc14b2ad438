package io.github.lakehouse.spark;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import org.apache.spark.sql.api.java.UDF1;

/**
 * What a raw line is, as one JSON object with known top-level field names, found in one
 * streaming pass over it: {@link #NOT_ONE_OBJECT} (not JSON, not an object, or followed by
 * more than whitespace), {@link #KNOWN_FIELDS} (an object whose field names are all known) or
 * {@link #UNKNOWN_FIELDS} (an object with at least one other field name).
 *
 * <p>Spark's json_array_length and json_object_keys answer the same questions with a parser
 * each (and two for a line with a ']'); this does it with one. The leading characters allowed
 * before the '{' are spaces only, as Spark's ltrim; the parser accepts what Spark's JSON
 * functions accept (single quotes and unescaped control characters in strings). Values are
 * skipped, never built.
 */
public final class JsonLineShape implements UDF1<String, Integer> {
    private static final long serialVersionUID = 1L;

    public static final int NOT_ONE_OBJECT = 0;
    public static final int KNOWN_FIELDS = 1;
    public static final int UNKNOWN_FIELDS = 2;

    /** How Spark's JSON functions read JSON: single quotes and unescaped control characters allowed. */
    static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
            .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
            .build();

    private final HashSet<String> known;

    /** @param knownFields the known top-level field names, separated by commas */
    public JsonLineShape(String knownFields) {
        this.known = new HashSet<>(Arrays.asList(knownFields.split(",")));
    }

    @Override
    public Integer call(String line) {
        if (line == null) {
            return NOT_ONE_OBJECT;
        }
        int start = 0;
        while (start < line.length() && line.charAt(start) == ' ') {
            start++;
        }
        if (start == line.length() || line.charAt(start) != '{') {
            return NOT_ONE_OBJECT;
        }
        try (JsonParser parser = FACTORY.createParser(line)) {
            parser.nextToken();
            boolean unknown = false;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                unknown = unknown || !known.contains(parser.currentName());
                parser.nextToken();
                parser.skipChildren();
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                return NOT_ONE_OBJECT;
            }
            return unknown ? UNKNOWN_FIELDS : KNOWN_FIELDS;
        } catch (IOException notJson) {
            return NOT_ONE_OBJECT;
        }
    }
}
