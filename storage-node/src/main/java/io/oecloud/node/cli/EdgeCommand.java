package io.oecloud.node.cli;

import io.oecloud.dht.Multiaddr;
import io.oecloud.edge.EdgeConfig;
import io.oecloud.node.EdgeNode;
import io.oecloud.node.api.ApiToken;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code oe edge}: a CDN edge node (client-only libp2p node, verified tiered cache, HTTP front) until stopped. */
@Command(name = "edge", description = "Run a CDN edge: a client-only libp2p node that fetches content by CID, checks it, caches it "
        + "in memory and on disk, and serves it over HTTP (/c/{cid}[/path], {cid}.c.DOMAIN, {name}.n.DOMAIN), until stopped.")
final class EdgeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.oecloud-edge",
            description = "Identity, peer store, the disk cache (DIR/cache) and the admin token (DIR/api-token) (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--listen", paramLabel = "MULTIADDR", split = ",", defaultValue = "/ip4/127.0.0.1/tcp/4101",
            description = "p2p listen address, repeatable (default: ${DEFAULT-VALUE}).")
    List<String> listen;

    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", description = "Peers to join through, repeatable (default: the peers of the last run).")
    List<String> bootstrap = List.of();

    @Option(names = "--http", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:" + EdgeConfig.DEFAULT_PORT,
            description = "Where the HTTP front listens (default: ${DEFAULT-VALUE}; port 0 picks one).")
    String http;

    @Option(names = "--domain", paramLabel = "NAME", defaultValue = "localhost",
            description = "The edge's host name: sites are served at {cid}.c.NAME and {name}.n.NAME (default: ${DEFAULT-VALUE}).")
    String domain;

    @Option(names = "--site", paramLabel = "HOST=CID|NAME",
            description = "Serve HOST (a Host header, without port) from a root CID or a registered site name; repeatable.")
    List<String> sites = List.of();

    @Option(names = "--memory", paramLabel = "BYTES", defaultValue = "256MiB", converter = Sizes.class,
            description = "The memory tier's size (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--disk", paramLabel = "BYTES", defaultValue = "10GiB", converter = Sizes.class,
            description = "The disk tier's size, under DATA_DIR/cache; 0 for none (default: ${DEFAULT-VALUE}).")
    long disk;

    @Option(names = "--chunk-size", paramLabel = "BYTES", defaultValue = "1MiB", converter = Sizes.class,
            description = "Bytes a cached chunk holds: a range request caches only the chunks it touches (default: ${DEFAULT-VALUE}).")
    long chunkSize;

    @Option(names = "--connections-per-address", paramLabel = "N", defaultValue = "64",
            description = "Open connections one client address may hold; more are answered 429 and closed (default: ${DEFAULT-VALUE}).")
    int perAddress;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Serve HTTPS with this certificate chain (PEM; with --tls-key): HTTP/2 and HTTP/1.1 chosen by ALPN.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The certificate's private key (PEM, PKCS#8, as openssl writes it).")
    Path tlsKey;

    @Option(names = "--chain-rpc", paramLabel = "HOST:PORT",
            description = "A super-node's CometBFT RPC to resolve site names ({name}.n.DOMAIN, --site HOST=NAME) from OEChain's "
                    + "registry, each answer checked by a light client; without it names are not served.")
    String chainRpc;

    @Option(names = "--trust-hash", paramLabel = "HEX",
            description = "The hash of the chain's first header, to pin the light client's trust (default: trusted as first seen).")
    String trustHash;

    private final CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        EdgeConfig config = config();
        List<Multiaddr> listenAt = new ArrayList<>();
        for (String l : listen) {
            listenAt.add(multiaddr(l, "--listen"));
        }
        List<Multiaddr> join = new ArrayList<>();
        for (String b : bootstrap) {
            join.add(multiaddr(b, "--bootstrap"));
        }
        io.oecloud.node.ChainNames names = null;
        if (chainRpc != null) {
            int colon = chainRpc.lastIndexOf(':');
            if (colon < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--chain-rpc '" + chainRpc + "' is not HOST:PORT");
            }
            names = io.oecloud.node.ChainNames.open(new InetSocketAddress(chainRpc.substring(0, colon),
                    Integer.parseInt(chainRpc.substring(colon + 1))), dataDir, trustHash);
        }
        EdgeNode node = EdgeNode.start(dataDir, listenAt, join, config, names, spec.commandLine().getOut(), spec.commandLine().getErr());
        io.oecloud.node.ChainNames registry = names;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            if (registry != null) {
                registry.close();
            }
            stop.countDown();
        }, "oe-edge-shutdown"));
        stop.await();
        return 0;
    }

    EdgeConfig config() throws java.io.IOException {
        int colon = http.lastIndexOf(':');
        if (colon < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--http '" + http + "' is not HOST:PORT");
        }
        int port;
        try {
            port = Integer.parseInt(http.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--http '" + http + "' has no port number");
        }
        Map<String, String> mapped = new LinkedHashMap<>();
        for (String s : sites) {
            int eq = s.indexOf('=');
            if (eq < 1 || eq == s.length() - 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--site '" + s + "' is not HOST=CID or HOST=NAME");
            }
            mapped.put(s.substring(0, eq).strip().toLowerCase(Locale.ROOT), s.substring(eq + 1).strip());
        }
        if (chunkSize < 1024 || chunkSize > (16 << 20)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chunk-size must be 1KiB to 16MiB, was " + chunkSize);
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--tls-cert and --tls-key go together");
        }
        java.nio.file.Files.createDirectories(dataDir);
        String token = ApiToken.loadOrCreate(dataDir).value();
        try {
            return new EdgeConfig(new InetSocketAddress(http.substring(0, colon), port), domain.toLowerCase(Locale.ROOT), mapped,
                    disk == 0 ? null : dataDir, (int) chunkSize, memory, disk, token, Duration.ofSeconds(30), Duration.ofSeconds(30),
                    Duration.ofSeconds(5), 4096, perAddress, tlsCert == null ? null : new EdgeConfig.Tls(tlsCert, tlsKey),
                    EdgeConfig.HEAD_DEADLINE);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private Multiaddr multiaddr(String s, String flag) {
        try {
            return Multiaddr.parse(s);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " '" + s + "' is not a multiaddr: " + e.getMessage());
        }
    }

    /** Byte sizes: digits with an optional KiB, MiB, GiB or TiB (or K, M, G, T). */
    static final class Sizes implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String v = value.strip();
            int i = 0;
            while (i < v.length() && Character.isDigit(v.charAt(i))) {
                i++;
            }
            if (i == 0 || i > 18) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a size: use digits with KiB, MiB, GiB or TiB");
            }
            long n = Long.parseLong(v.substring(0, i));
            int shift = switch (v.substring(i).strip().toLowerCase(Locale.ROOT)) {
                case "", "b" -> 0;
                case "k", "kib", "kb" -> 10;
                case "m", "mib", "mb" -> 20;
                case "g", "gib", "gb" -> 30;
                case "t", "tib", "tb" -> 40;
                default -> throw new CommandLine.TypeConversionException("'" + value + "' has an unknown unit: use KiB, MiB, GiB or TiB");
            };
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new CommandLine.TypeConversionException("'" + value + "' is too large");
            }
            return n << shift;
        }
    }
}
