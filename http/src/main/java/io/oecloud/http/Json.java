package io.oecloud.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Map;

/** JSON answers: one shared, thread-safe mapper, and a response with its type and length set. */
public final class Json {
    /** Configured once, never changed after: Jackson's mapper is then safe to share between threads. */
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /**
     * {@code body} as a JSON response with {@code Content-Type: application/json} and its
     * Content-Length. The caller owns the returned message (writing it releases it).
     *
     * @throws IllegalArgumentException when {@code body} cannot be written as JSON (a bug)
     */
    public static FullHttpResponse response(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write a " + body.getClass().getName() + " as JSON", e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        HttpUtil.setContentLength(r, bytes.length);
        return r;
    }

    /** {@code {"error": words}} with {@code status}. */
    public static FullHttpResponse error(HttpResponseStatus status, String words) {
        return response(status, Map.of("error", words));
    }
}
