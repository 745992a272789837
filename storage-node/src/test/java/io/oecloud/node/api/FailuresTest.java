package io.oecloud.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.dht.NotFoundException;
import io.oecloud.http.Json;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The JSON routes' failures to status and words, by type; never by message. */
class FailuresTest {
    private record Answer(int status, String error) {}

    private static Answer answer(Throwable t) throws Exception {
        FullHttpResponse r = Failures.answer(t, 60);
        try {
            return new Answer(r.status().code(), Json.MAPPER.readTree(r.content().toString(StandardCharsets.UTF_8)).path("error").asText());
        } finally {
            r.release();
        }
    }

    @Test
    void byType() throws Exception {
        assertEquals(new Answer(404, "no record for /oe/x"), answer(new CompletionException(new NotFoundException("no record for /oe/x"))));
        assertEquals(new Answer(504, "no answer from the network within 60 s"), answer(new TimeoutException()));
        assertEquals(new Answer(429, "wait"), answer(new io.oecloud.http.HttpError(HttpResponseStatus.TOO_MANY_REQUESTS, "wait")));
        assertEquals(new Answer(400, "our words"), answer(new IllegalArgumentException("our words")));
        assertEquals(new Answer(502, "could not connect to the peer"), answer(new java.net.ConnectException("Connection refused")));
    }

    @Test
    void aMessageSayingNotFound_isNot404() throws Exception {
        assertEquals(502, answer(new java.io.IOException("peer x not found in the DHT")).status(), "only the type decides");
    }

    @Test
    void foreignWords_neverReachTheClient() throws Exception {
        Throwable foreign = new java.io.IOException("java.lang.Something at sun.nio...");
        foreign.setStackTrace(new StackTraceElement[] {new StackTraceElement("sun.nio.ch.Net", "connect", null, 1)});
        assertEquals(new Answer(502, "the request failed in the network; see the node's log"), answer(foreign));
        Throwable wrapped = new IllegalStateException("cannot reach 1.2.3.4: " + foreign.getMessage(), foreign);
        assertEquals(new Answer(502, "cannot reach 1.2.3.4"), answer(wrapped), "our part only");
    }
}
