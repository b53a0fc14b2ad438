package io.github.lakehouse.spark;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;

/**
 * A JSON line read against a contract of typed fields, in one streaming pass: a row of the
 * fields' values, in the contract's order; then its top-level fields outside the contract, as
 * a map from name to text (null when there are none); then the line's shape:
 * {@link #MALFORMED}, {@link #KNOWN_FIELDS} or {@link #UNKNOWN_FIELDS}.
 *
 * <p>A line is {@link #MALFORMED} (and all its values null) unless it is exactly one JSON
 * object (only spaces before it, JSON whitespace after it) whose contract fields have the
 * contract's types. Otherwise it has {@link #UNKNOWN_FIELDS} if some top-level field is not in
 * the contract. The values are those Spark's from_json gives in PERMISSIVE mode for the same
 * schema, and a line is malformed where from_json marks it corrupt: JSON read with from_json's
 * default options (single quotes and NaN allowed; unescaped control characters, comments and
 * leading zeros not); a string field takes a JSON string's text or the JSON text of any other
 * value, written by Jackson as Spark writes it; a long or int field takes an integer in its
 * range; a struct field an object; a field named twice keeps its last value. The fields
 * outside the contract are what from_json gives for a map of strings (each value a string's
 * text, null, or the JSON text of any other value), a name named twice kept once, with its
 * last value (from_json would keep both, which Spark's maps do not allow elsewhere).
 *
 * <p>Spark's from_json builds a Jackson parser per line through a decoding reader and a generic
 * row; checking that the line is one object and which fields it has took another parse, and
 * reading the fields outside the contract a third. This reads each line once, and skips the
 * values of a struct's unknown fields.
 */
public final class JsonContract implements UDF1<String, Row> {
    private static final long serialVersionUID = 1L;

    public static final int MALFORMED = 0;
    public static final int KNOWN_FIELDS = 1;
    public static final int UNKNOWN_FIELDS = 2;

    /** How from_json reads JSON by default: single quotes and NaN/Infinity allowed, nothing else. */
    private static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private enum Type { STRING, LONG, INT, STRUCT }

    /** A field of the contract: a leaf with its place in the row, or a struct of leaves in [first, end). */
    private static final class Field implements Serializable {
        private static final long serialVersionUID = 1L;

        final Type type;
        final int index;
        final int first;
        int end;
        final HashMap<String, Field> fields = new HashMap<>();

        Field(Type type, int index, int first) {
            this.type = type;
            this.index = index;
            this.first = first;
        }
    }

    /**
     * The line is not what the contract reads; caught in {@link #read}. One instance serves every
     * line and thread, so it has no stack trace and takes no suppressed exceptions (which a
     * try-with-resources would otherwise add to it).
     */
    private static final class NotTheContract extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotTheContract() {
            super(null, null, false, false);
        }
    }

    private static final NotTheContract NOT_THE_CONTRACT = new NotTheContract();

    private final Field root = new Field(Type.STRUCT, -1, 0);
    private final int width;

    /**
     * @param contract the leaf fields as {@code path:type}, separated by commas, in the row's
     *     order; a path is a top-level name or {@code struct.name} (one level), a type is
     *     {@code string}, {@code long} or {@code int}; a struct's leaves come one after another
     */
    public JsonContract(String contract) {
        String[] leaves = contract.split(",");
        for (int index = 0; index < leaves.length; index++) {
            String[] pathAndType = leaves[index].split(":");
            String[] path = pathAndType[0].split("\\.");
            Type type = Type.valueOf(pathAndType[1].toUpperCase(java.util.Locale.ROOT));
            Field parent = root;
            if (path.length == 2) {
                final int first = index;
                parent = root.fields.computeIfAbsent(path[0], name -> new Field(Type.STRUCT, -1, first));
                if (parent.end != 0 && parent.end != index) {
                    throw new IllegalArgumentException("the leaves of " + path[0] + " are not one after another");
                }
                parent.end = index + 1;
            } else if (path.length != 1) {
                throw new IllegalArgumentException("a path of one or two names, not " + pathAndType[0]);
            }
            parent.fields.put(path[path.length - 1], new Field(type, index, index));
        }
        this.width = leaves.length;
    }

    @Override
    public Row call(String line) {
        Object[] values = new Object[width + 2];  // the leaves, the rescued fields, the shape
        int shape = read(line, values);
        if (shape == MALFORMED) {
            Arrays.fill(values, null);
        }
        values[width + 1] = shape;
        return RowFactory.create(values);
    }

    private int read(String line, Object[] values) {
        if (line == null) {
            return MALFORMED;
        }
        int start = 0;
        while (start < line.length() && line.charAt(start) == ' ') {
            start++;
        }
        if (start == line.length() || line.charAt(start) != '{') {
            return MALFORMED;
        }
        try (JsonParser parser = FACTORY.createParser(line)) {
            parser.nextToken();
            readObject(parser, root, values);
            if (parser.nextToken() != null) {
                return MALFORMED;
            }
            return values[width] == null ? KNOWN_FIELDS : UNKNOWN_FIELDS;
        } catch (IOException | RuntimeException notTheContract) {
            return MALFORMED;
        }
    }

    /**
     * Reads the object the parser is at into `values`. The top level's unknown fields go into
     * a map at `values[width]`, created by the first: a string's text, null for a JSON null,
     * the JSON text of any other value (from_json's reading of a map of strings); a name
     * repeated keeps its place, with its last value. A struct's unknown fields are skipped.
     */
    private void readObject(JsonParser parser, Field struct, Object[] values) throws IOException {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            Field field = struct.fields.get(name);
            JsonToken token = parser.nextToken();
            if (field == null) {
                if (struct == root) {
                    rescued(values).put(name, (String) leaf(parser, token, Type.STRING));
                } else {
                    parser.skipChildren();
                }
            } else if (field.type != Type.STRUCT) {
                values[field.index] = leaf(parser, token, field.type);
            } else {
                Arrays.fill(values, field.first, field.end, null);  // a struct named again replaces the first
                if (token == JsonToken.START_OBJECT) {
                    readObject(parser, field, values);
                } else if (token != JsonToken.VALUE_NULL) {
                    throw NOT_THE_CONTRACT;
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, String> rescued(Object[] values) {
        if (values[width] == null) {
            values[width] = new LinkedHashMap<String, String>();
        }
        return (Map<String, String>) values[width];
    }

    private static Object leaf(JsonParser parser, JsonToken token, Type type) throws IOException {
        if (token == JsonToken.VALUE_NULL) {
            return null;
        }
        switch (type) {
            case STRING:
                return token == JsonToken.VALUE_STRING ? parser.getText() : jsonText(parser);
            case LONG:
                if (token == JsonToken.VALUE_NUMBER_INT) {
                    return parser.getLongValue();
                }
                throw NOT_THE_CONTRACT;
            default:
                if (token == JsonToken.VALUE_NUMBER_INT) {
                    return parser.getIntValue();
                }
                throw NOT_THE_CONTRACT;
        }
    }

    /** The JSON text of the value at the parser, as Spark writes it; the parser ends on its last token. */
    private static String jsonText(JsonParser parser) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator generator = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
            generator.copyCurrentStructure(parser);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
