package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.meshwork.protocol.api.ApiError;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;

/**
 * JSON in and out for every route: request bodies read strictly (unknown fields and nulls for primitives refused),
 * answers written with Jackson, and every error, whether an {@link ApiException}, a timeout, a failure or a
 * rejection of Pekko HTTP's, answered as an {@link ApiError} body.
 */
final class JsonSupport {

    /** The peer stream's content type: one JSON object per line. */
    static final ContentType NDJSON = ContentTypes.create(MediaTypes.applicationWithOpenCharset("x-ndjson"),
            HttpCharsets.UTF_8);

    /**
     * What a request body may be, below the entity size limit ({@code meshwork.control.http.max-body-bytes}): no
     * body of the API nests deeper than a few levels or needs a number longer than a long's digits, so a deeper or
     * longer one is refused as it is read, before it costs stack or a huge BigDecimal.
     */
    static final StreamReadConstraints BODY_CONSTRAINTS = StreamReadConstraints.builder()
            .maxNestingDepth(32)
            .maxNumberLength(64)
            .maxStringLength(65_536)
            .maxNameLength(1_024)
            .build();

    private final ObjectMapper json = new ObjectMapper(JsonFactory.builder()
                    .streamReadConstraints(BODY_CONSTRAINTS)
                    // A name twice in one object is ambiguous (which one counts?): refused, not the last one taken.
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private final Logger log;

    /** {@code log}: where failures that are answered 500 are reported. */
    JsonSupport(Logger log) {
        this.log = log;
    }

    ObjectMapper mapper() {
        return json;
    }

    /**
     * Runs {@code inner} with the request body read as {@code type}; a body that is not one (malformed JSON or
     * UTF-8, beyond {@link #BODY_CONSTRAINTS}, of other types or with other fields) is a 400.
     */
    <T> Route body(Class<T> type, Function<T, Route> inner) {
        // The bytes, not a string decoded with replacement characters.
        return entity(Unmarshaller.entityToByteString(), bytes -> {
            T value;
            try {
                JsonNode tree = json.readTree(utf8(bytes.toArray()));
                String unpaired = unpairedSurrogate(tree);
                if (unpaired != null) {
                    throw new ApiException(400, "malformed JSON: " + unpaired + " holds half of a UTF-16 surrogate "
                            + "pair, which is no character");
                }
                value = tree.isMissingNode() ? null : json.treeToValue(tree, type);
            } catch (UnrecognizedPropertyException e) {
                throw new ApiException(400, "unknown field \"" + e.getPropertyName() + "\"");
            } catch (JsonProcessingException e) {
                throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage());
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, "malformed JSON: " + e.getMessage());
            }
            if (value == null) {
                throw new ApiException(400, "a JSON object is required");
            }
            return inner.apply(value);
        });
    }

    /**
     * {@code bytes} as the text they encode in UTF-8 (RFC 8259 §8.1), refused when they are not UTF-8: an overlong
     * form, an encoded surrogate, a stray byte. Jackson would take some of those as characters, which its CBOR
     * writer then cannot persist.
     */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ApiException(400, "malformed JSON: the body is not UTF-8");
        }
    }

    /**
     * Where {@code node} has a string or a field name with an unpaired surrogate ({@code "\ud800"} is valid JSON
     * escaping, but no Unicode text), or null when it has none. Bounded by the nesting depth of
     * {@link #BODY_CONSTRAINTS}.
     */
    private static String unpairedSurrogate(JsonNode node) {
        if (node.isTextual()) {
            return hasUnpairedSurrogate(node.textValue()) ? "a string" : null;
        }
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (hasUnpairedSurrogate(field.getKey())) {
                return "a field name";
            }
            String inside = unpairedSurrogate(field.getValue());
            if (inside != null) {
                return inside;
            }
        }
        if (node.isArray()) {
            for (JsonNode item : node) {
                String inside = unpairedSurrogate(item);
                if (inside != null) {
                    return inside;
                }
            }
        }
        return null;
    }

    private static boolean hasUnpairedSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    Route ok(Object body) {
        return respond(StatusCodes.OK, body);
    }

    Route created(Object body) {
        return respond(StatusCodes.CREATED, body);
    }

    Route respond(StatusCode status, Object body) {
        return complete(status, toEntity(body));
    }

    /**
     * The error answer {@code {"error": message}} with {@code status}; a 503 (the cluster did not answer, or is
     * busy) with {@code Retry-After: 1}.
     */
    Route error(int status, String message) {
        if (status == 503) {
            return respondWithHeader(RetryAfter.create(1L), () -> respond(StatusCodes.get(status),
                    new ApiError(message)));
        }
        return respond(StatusCodes.get(status), new ApiError(message));
    }

    ResponseEntity toEntity(Object body) {
        try {
            return HttpEntities.create(ContentTypes.APPLICATION_JSON, json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code value} as one NDJSON line. */
    ByteString line(Object value) {
        try {
            return ByteString.fromArray(json.writeValueAsBytes(value)).concat(ByteString.fromString("\n"));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a " + value.getClass().getSimpleName() + " did not render as JSON", e);
        }
    }

    /**
     * {@code inner}, unless the request declares a body over {@code maxBodyBytes}: that one is answered 413 at once,
     * before the body is read, so a client that sent {@code Expect: 100-continue} gets no 100 and sends no body.
     * (Pekko HTTP's own limit applies when the body is read: a client may then be answered 100 and be reset while
     * still sending.) Bodies without a declared length are limited as they are read.
     */
    Route bodyWithin(long maxBodyBytes, Supplier<Route> inner) {
        return extractRequest(request -> {
            java.util.OptionalLong declared = request.entity().getContentLengthOption();
            if (declared.isPresent() && declared.getAsLong() > maxBodyBytes) {
                return error(413, "the request body of " + declared.getAsLong() + " bytes is over the limit of "
                        + maxBodyBytes + " bytes");
            }
            return inner.get();
        });
    }

    /** {@code inner} with every exception and rejection answered as JSON. */
    Route handled(Supplier<Route> inner) {
        return handleExceptions(exceptions(), () -> handleRejections(rejections(), inner));
    }

    private ExceptionHandler exceptions() {
        return ExceptionHandler.newBuilder()
                .match(ApiException.class, e -> error(e.status, e.getMessage()))
                .match(TimeoutException.class, e -> error(503, "the cluster did not answer in time"))
                .matchAny(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof ApiException api) {
                        return error(api.status, api.getMessage());
                    }
                    if (cause instanceof TimeoutException) {
                        return error(503, "the cluster did not answer in time");
                    }
                    log.warn("request failed: {}", cause.toString());
                    return error(500, "internal error");
                })
                .build();
    }

    /** Pekko HTTP's own answers (404, 405, 413...), with their text as an {@link ApiError}. */
    private RejectionHandler rejections() {
        return RejectionHandler.defaultHandler().mapRejectionResponse(response -> {
            if (response.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                return response;
            }
            String text = response.entity() instanceof HttpEntity.Strict strict
                    ? strict.getData().utf8String() : response.status().reason();
            try {
                return response.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
                        json.writeValueAsBytes(new ApiError(text))));
            } catch (JsonProcessingException e) {
                return response;
            }
        });
    }
}
