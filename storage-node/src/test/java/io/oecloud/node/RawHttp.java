package io.oecloud.node;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for requests no well-behaved client would send (broken framing,
 * oversized heads, bodies that stop half-way). Reads one response: status line, headers, and a
 * body by Content-Length, chunked, or up to the close.
 */
final class RawHttp implements AutoCloseable {
    /** One response; {@code status} is -1 when the server closed without answering. */
    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawHttp(int port, int readTimeoutMillis) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(readTimeoutMillis);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    RawHttp send(String ascii) throws IOException {
        return send(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawHttp send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Sends what it can; a server that already answered and closed is not an error here. */
    RawHttp sendQuietly(byte[] bytes) {
        try {
            send(bytes);
        } catch (IOException ignored) {
            // the server may refuse early and close: its answer is what the caller reads next
        }
        return this;
    }

    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * The next response. A read timeout throws {@link SocketTimeoutException}: the server neither
     * answered nor closed within the socket's timeout.
     */
    Response read() throws IOException {
        Response r = readInterim();
        return r.status() == 100 ? read() : r;
    }

    /** The next response, an interim 100 Continue included. */
    Response readInterim() throws IOException {
        String statusLine;
        try {
            statusLine = line();
        } catch (java.net.SocketException e) { // reset by the server
            return new Response(-1, Map.of(), "");
        }
        if (statusLine == null) {
            return new Response(-1, Map.of(), "");
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h; (h = line()) != null && !h.isEmpty(); ) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (status / 100 == 1 || status == 204 || status == 304) {
            return new Response(status, headers, "");
        }
        if (headers.containsKey("content-length")) {
            long n = Long.parseLong(headers.get("content-length"));
            body.write(in.readNBytes((int) Math.min(n, 1 << 20)));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (String size; (size = line()) != null; ) {
                int n = Integer.parseInt(size.trim(), 16);
                if (n == 0) {
                    line();
                    break;
                }
                body.write(in.readNBytes(n));
                line();
            }
        } else {
            body.write(in.readAllBytes());
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    /** True when the server closed the connection (end of stream or reset) within the timeout. */
    boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    private String line() throws IOException {
        return io.oecloud.testkit.RawHttp.readLine(in);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
