package io.oecloud.node.s3;

import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A request failed with an S3 error: the code, words for the client, optionally the resource and
 * extra elements of the {@code <Error>} answer.
 *
 * <p>An {@link IOException} on purpose: the body streams ({@link DigestingStream},
 * {@link AwsChunkedStream}) throw it from {@code read}, and it must pass unchanged through code that
 * reads them (an upload fails as a whole on any IOException), so the edge can still answer with
 * the precise S3 error.
 *
 * <p>Extra elements end up in the answer as they are: never put secrets or what the server signed
 * (StringToSign, CanonicalRequest) in them.
 */
public final class S3Exception extends IOException {
    private final S3Error error;
    private final String resource;
    private final Map<String, String> extra;

    /** {@code message}: words for the client; null or blank for the error's default message. */
    public S3Exception(S3Error error, String message) {
        this(error, message, null, Map.of(), null);
    }

    /** The same, keeping {@code cause} for the log (it never reaches the client). */
    public S3Exception(S3Error error, String message, Throwable cause) {
        this(error, message, null, Map.of(), cause);
    }

    private S3Exception(S3Error error, String message, String resource, Map<String, String> extra, Throwable cause) {
        super(message == null || message.isBlank() ? Objects.requireNonNull(error, "error").defaultMessage() : message, cause);
        this.error = Objects.requireNonNull(error, "error");
        this.resource = resource;
        this.extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /** A copy of this error about {@code resource} (the request's path, e.g. {@code /bucket/key}); same stack trace. */
    public S3Exception withResource(String resource) {
        S3Exception e = new S3Exception(error, getMessage(), resource, extra, getCause());
        e.setStackTrace(getStackTrace());
        return e;
    }

    /** A copy of this error with one more element in the answer (e.g. RequestTime, ServerTime, BucketName). */
    public S3Exception withExtra(String element, String value) {
        Map<String, String> m = new LinkedHashMap<>(extra);
        m.put(Objects.requireNonNull(element, "element"), Objects.requireNonNull(value, "value"));
        S3Exception e = new S3Exception(error, getMessage(), resource, m, getCause());
        e.setStackTrace(getStackTrace());
        return e;
    }

    public S3Error error() {
        return error;
    }

    /** The resource, or null. */
    public String resource() {
        return resource;
    }

    /** Extra elements of the answer, in order. */
    public Map<String, String> extra() {
        return extra;
    }

    @Override
    public String toString() {
        return "S3Exception " + error.code() + " (" + error.status() + "): " + getMessage() + (resource == null ? "" : " [" + resource + "]");
    }
}
