package io.oecloud.dht;

import io.oecloud.wire.Uvarint;
import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A multiaddr ({@code /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...}): a list of (protocol, value)
 * components, in text and binary form. Protocols other peers advertise but we do not dial (QUIC,
 * WebSockets, WebTransport, circuits) parse and print too, so their addresses pass through.
 */
public final class Multiaddr {
    /** A protocol of the multiaddr table: code, name and value size (-1: varint-prefixed, 0: none). */
    enum Proto {
        IP4(4, "ip4", 4), TCP(6, "tcp", 2), UDP(273, "udp", 2), IP6(41, "ip6", 16),
        DNS(53, "dns", -1), DNS4(54, "dns4", -1), DNS6(55, "dns6", -1), DNSADDR(56, "dnsaddr", -1),
        P2P(421, "p2p", -1), P2P_CIRCUIT(290, "p2p-circuit", 0), TLS(448, "tls", 0), NOISE(454, "noise", 0),
        QUIC(460, "quic", 0), QUIC_V1(461, "quic-v1", 0), WEBTRANSPORT(465, "webtransport", 0),
        CERTHASH(466, "certhash", -1), WS(477, "ws", 0), WSS(478, "wss", 0), HTTP(480, "http", 0);

        final int code;
        final String label;
        final int size;

        Proto(int code, String label, int size) {
            this.code = code;
            this.label = label;
            this.size = size;
        }

        static Proto ofCode(long code) {
            for (Proto p : values()) {
                if (p.code == code) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown multiaddr protocol code " + code);
        }

        static Proto ofLabel(String label) {
            for (Proto p : values()) {
                if (p.label.equals(label)) {
                    return p;
                }
            }
            if (label.equals("ipfs")) {
                return P2P;
            }
            throw new IllegalArgumentException("unknown multiaddr protocol '" + label + "'");
        }
    }

    record Component(Proto proto, byte[] value) {}

    /** No multiaddr we accept is longer, in bytes or characters. */
    static final int MAX_LENGTH = 1024;

    private final List<Component> components;
    private final byte[] bytes;

    private Multiaddr(List<Component> components) {
        this.components = List.copyOf(components);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] v = new byte[10];
        for (Component c : components) {
            out.write(v, 0, Uvarint.write(v, 0, c.proto.code));
            if (c.proto.size < 0) {
                out.write(v, 0, Uvarint.write(v, 0, c.value.length));
            }
            out.writeBytes(c.value);
        }
        this.bytes = out.toByteArray();
    }

    /**
     * Parses the text form.
     *
     * @throws IllegalArgumentException naming the part that is wrong
     */
    public static Multiaddr parse(String s) {
        if (s == null || !s.startsWith("/")) {
            throw new IllegalArgumentException("multiaddr must start with '/': " + s);
        }
        if (s.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("multiaddr longer than " + MAX_LENGTH + " characters");
        }
        String[] parts = s.substring(1).split("/", -1);
        List<Component> cs = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty() && i == parts.length - 1) {
                break; // trailing slash
            }
            Proto p = Proto.ofLabel(parts[i]);
            if (p.size == 0) {
                cs.add(new Component(p, new byte[0]));
                continue;
            }
            if (++i >= parts.length) {
                throw new IllegalArgumentException("multiaddr " + s + ": /" + p.label + " needs a value");
            }
            cs.add(new Component(p, valueFromString(p, parts[i])));
        }
        if (cs.isEmpty()) {
            throw new IllegalArgumentException("empty multiaddr");
        }
        return new Multiaddr(cs);
    }

    /**
     * Parses the binary form.
     *
     * @throws IllegalArgumentException on unknown protocols or truncated values
     */
    public static Multiaddr fromBytes(byte[] b) {
        if (b.length > MAX_LENGTH) {
            throw new IllegalArgumentException("multiaddr of " + b.length + " bytes is too long");
        }
        List<Component> cs = new ArrayList<>();
        int[] pos = {0};
        while (pos[0] < b.length) {
            Proto p = Proto.ofCode(Uvarint.read(b, pos));
            int len = p.size >= 0 ? p.size : (int) Math.min(Uvarint.read(b, pos), MAX_LENGTH + 1L);
            if (pos[0] + len > b.length) {
                throw new IllegalArgumentException("truncated /" + p.label + " value in multiaddr");
            }
            cs.add(new Component(p, Arrays.copyOfRange(b, pos[0], pos[0] + len)));
            pos[0] += len;
        }
        if (cs.isEmpty()) {
            throw new IllegalArgumentException("empty multiaddr");
        }
        return new Multiaddr(cs);
    }

    /** {@code /ip4/A/tcp/P} or {@code /ip6/A/tcp/P} for a socket address. */
    public static Multiaddr tcp(InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        Proto p = ip instanceof Inet6Address ? Proto.IP6 : Proto.IP4;
        byte[] port = {(byte) (a.getPort() >>> 8), (byte) a.getPort()};
        return new Multiaddr(List.of(new Component(p, ip.getAddress()), new Component(Proto.TCP, port)));
    }

    private static byte[] valueFromString(Proto p, String v) {
        try {
            return switch (p) {
                case IP4 -> {
                    if (!v.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                        throw new IllegalArgumentException("'" + v + "' is not an IPv4 address");
                    }
                    InetAddress a = InetAddress.getByName(v);
                    if (!(a instanceof Inet4Address)) {
                        throw new IllegalArgumentException("'" + v + "' is not an IPv4 address");
                    }
                    yield a.getAddress();
                }
                case IP6 -> {
                    if (!v.contains(":")) {
                        throw new IllegalArgumentException("'" + v + "' is not an IPv6 address");
                    }
                    InetAddress a = InetAddress.getByName(v);
                    byte[] raw = a.getAddress();
                    if (raw.length == 4) { // ::ffff:a.b.c.d comes back as IPv4
                        byte[] mapped = new byte[16];
                        mapped[10] = (byte) 0xff;
                        mapped[11] = (byte) 0xff;
                        System.arraycopy(raw, 0, mapped, 12, 4);
                        raw = mapped;
                    }
                    yield raw;
                }
                case TCP, UDP -> {
                    int port = Integer.parseInt(v);
                    if (port < 0 || port > 65535) {
                        throw new IllegalArgumentException("port " + v + " is out of range");
                    }
                    yield new byte[] {(byte) (port >>> 8), (byte) port};
                }
                case P2P -> PeerId.parse(v).toBytes();
                case CERTHASH -> v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                default -> v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            };
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("bad /" + p.label + " value '" + v + "'", e);
        }
    }

    private static String valueToString(Component c) {
        byte[] v = c.value;
        return switch (c.proto) {
            case IP4, IP6 -> {
                try {
                    String s = InetAddress.getByAddress(v).getHostAddress();
                    yield c.proto == Proto.IP6 ? compressIpv6(s) : s;
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }
            case TCP, UDP -> Integer.toString(((v[0] & 0xff) << 8) | (v[1] & 0xff));
            case P2P -> PeerId.fromBytes(v).toString();
            default -> new String(v, java.nio.charset.StandardCharsets.UTF_8);
        };
    }

    /** RFC 5952 short form (as go and js print it): the longest run of zero groups becomes "::". */
    private static String compressIpv6(String s) {
        String[] g = s.split(":");
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < g.length; ) {
            if (Integer.parseInt(g[i], 16) == 0) {
                int j = i;
                while (j < g.length && Integer.parseInt(g[j], 16) == 0) {
                    j++;
                }
                if (j - i > bestLen && j - i > 1) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < g.length; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(Integer.parseInt(g[i], 16)));
        }
        return sb.toString();
    }

    /** The peer ID of the last /p2p component, or null. */
    public PeerId peerId() {
        for (int i = components.size() - 1; i >= 0; i--) {
            if (components.get(i).proto == Proto.P2P) {
                return PeerId.fromBytes(components.get(i).value);
            }
        }
        return null;
    }

    /** This address with {@code /p2p/ID} appended (or replaced). */
    public Multiaddr withPeerId(PeerId id) {
        List<Component> cs = new ArrayList<>(withoutPeerId().components);
        cs.add(new Component(Proto.P2P, id.toBytes()));
        return new Multiaddr(cs);
    }

    /** This address without a trailing /p2p component. */
    public Multiaddr withoutPeerId() {
        int n = components.size();
        if (n > 1 && components.get(n - 1).proto == Proto.P2P) {
            return new Multiaddr(components.subList(0, n - 1));
        }
        return this;
    }

    /** The TCP socket address of an /ip4|ip6/.../tcp/... address, or null for any other transport. */
    public InetSocketAddress toTcpSocketAddress() {
        if (components.size() < 2 || components.get(1).proto != Proto.TCP) {
            return null;
        }
        Component ip = components.get(0);
        if (ip.proto != Proto.IP4 && ip.proto != Proto.IP6) {
            return null;
        }
        for (int i = 2; i < components.size(); i++) {
            if (components.get(i).proto != Proto.P2P) {
                return null; // e.g. /tcp/443/wss
            }
        }
        try {
            byte[] p = components.get(1).value;
            return new InetSocketAddress(InetAddress.getByAddress(ip.value), ((p[0] & 0xff) << 8) | (p[1] & 0xff));
        } catch (UnknownHostException e) {
            return null;
        }
    }

    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Bytes of the binary form (what limits count). */
    int length() {
        return bytes.length;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Component c : components) {
            sb.append('/').append(c.proto.label);
            if (c.proto.size != 0) {
                sb.append('/').append(valueToString(c));
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Multiaddr m && Arrays.equals(bytes, m.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
