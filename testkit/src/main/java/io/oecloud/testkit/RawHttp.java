package io.oecloud.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A plain HTTP/1.1 client over one socket, for tests that must set any Host header, send what
 * no client library would, and read the answer byte for byte (bodies by Content-Length).
 */
public final class RawHttp implements AutoCloseable {
    public record Response(int status, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(InetSocketAddress address) throws IOException {
        socket = new Socket(address.getAddress(), address.getPort());
        socket.setSoTimeout(30_000);
        in = new java.io.BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** One request on a fresh connection. */
    public static Response get(InetSocketAddress a, String method, String target, String... headers) throws IOException {
        try (RawHttp h = new RawHttp(a)) {
            return h.request(method, target, headers);
        }
    }

    /** {@code headers} as "Name: value"; Host defaults to localhost. */
    public Response request(String method, String target, String... headers) throws IOException {
        StringBuilder b = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        boolean host = false;
        for (String h : headers) {
            host |= h.toLowerCase(Locale.ROOT).startsWith("host:");
            b.append(h).append("\r\n");
        }
        if (!host) {
            b.append("Host: localhost\r\n");
        }
        send(b.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        return read(method.equals("HEAD"));
    }

    public void send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    public Response read(boolean head) throws IOException {
        String status = line();
        if (status == null) {
            throw new IOException("the connection closed before an answer");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(); l != null && !l.isEmpty(); l = line()) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).strip().toLowerCase(Locale.ROOT), l.substring(c + 1).strip());
        }
        int code = Integer.parseInt(status.split(" ")[1]);
        long length = head || code == 304 ? 0 : Long.parseLong(headers.getOrDefault("content-length", "0"));
        byte[] body = in.readNBytes((int) length);
        if (body.length != length) {
            throw new IOException("body ended after " + body.length + " of " + length + " bytes");
        }
        return new Response(code, headers, body);
    }

    public Socket socket() {
        return socket;
    }

    private String line() throws IOException {
        return readLine(in);
    }

    /**
     * One line of an HTTP head from {@code in}, without its CRLF (or bare LF); what is left at the
     * end of the stream, or null when nothing is. Bytes as ISO-8859-1, as a head is.
     */
    public static String readLine(java.io.InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
