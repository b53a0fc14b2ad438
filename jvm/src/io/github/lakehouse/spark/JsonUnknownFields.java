package io.github.lakehouse.spark;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.api.java.UDF1;

/**
 * The top-level fields of a JSON object line whose names are not known, as a map from name to
 * the value's text; null when there are none, or for a null line or one that is not an object.
 *
 * <p>The values are what Spark's from_json gives for a map of strings: a string's text, null
 * for a JSON null, and the JSON text of any other value, written by Jackson as Spark writes it.
 * Known fields are skipped, never built. A name repeated in the line is kept once, with its
 * last value (from_json would keep both, which Spark's maps do not allow elsewhere). It reads
 * JSON as {@link JsonContract} does, and is meant for the lines it finds
 * {@link JsonContract#UNKNOWN_FIELDS} in.
 *
 * <p>One pass in generated code, where from_json to a map and map_filter (a higher-order
 * function Spark interprets, with every expression of its projection) took two.
 */
public final class JsonUnknownFields implements UDF1<String, Map<String, String>> {
    private static final long serialVersionUID = 1L;

    private final HashSet<String> known;

    /** @param knownFields the known top-level field names, separated by commas */
    public JsonUnknownFields(String knownFields) {
        this.known = new HashSet<>(Arrays.asList(knownFields.split(",")));
    }

    @Override
    public Map<String, String> call(String line) {
        if (line == null) {
            return null;
        }
        try (JsonParser parser = JsonContract.FACTORY.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            Map<String, String> fields = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (known.contains(name)) {
                    parser.skipChildren();
                    continue;
                }
                if (fields == null) {
                    fields = new LinkedHashMap<>();
                }
                fields.put(name, text(parser, value));  // a repeated name keeps its place, with its last value
            }
            return fields;
        } catch (IOException notJson) {
            return null;
        }
    }

    /** The value at the parser as from_json reads it into a string; the parser ends on its last token. */
    private static String text(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_NULL) {
            return null;
        }
        if (value == JsonToken.VALUE_STRING) {
            return parser.getText();
        }
        return JsonContract.jsonText(parser);
    }
}
