package io.oecloud.node;

import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.node.api.ApiAccess;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.store.Quotas;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One node's settings, as {@code oe node} runs with them. Each setting is defined once, here: its
 * name (the same in {@code DATA_DIR/node.conf} and as a flag, {@code k} and {@code --k}), its
 * default ({@link #DEFAULTS}) and its check ({@link #of}). {@link #load} reads the file when it
 * exists and lets flags override it key by key; an error names where the value came from, the key
 * and the value ({@code --write-quorum 7 is more than ...}, {@code D/node.conf: k must be a whole
 * number, was 'four'}).
 *
 * <p>The file is lines of {@code key = value} with the flags' value syntax, {@code #} comments, and
 * a repeatable key (listen, bootstrap, trust-owner, api-host, api-cors-origin, chain-rpc,
 * chain-mempool) once per value. Not
 * {@code java.util.Properties}: it keeps the last of two equal keys without a word, reads {@code \}
 * as an escape (Windows paths) and knows no line numbers; not JSON: operators edit it by hand and
 * want comments, and the flags' vocabulary works unchanged.
 *
 * @param chainHome CometBFT's home for a super-node ({@code DATA_DIR/cometbft} unless set)
 * @param cometbft the CometBFT binary, or null for the project's pinned one
 * @param writeQuorum checked against k and m; k only when {@code allow-weak-write-quorum} said so
 * @param strangersQuota half the capacity unless set
 * @param chainRpc super-nodes' CometBFT RPC addresses this node reads the chain from (none: the
 *     node has no chain link, unless it is a super-node, which reads its own)
 * @param chainMempool super-nodes' mempool endpoints this node sends its transactions to
 * @param prove whether the node proves its storage on the chain ({@code io.oecloud.node.proving.ProvingRole}):
 *     registers, commits a root each period and answers its window; needs a chain link
 * @param proveCollateral base units bonded when the node registers, or null for the chain's minimum
 * @param storageAsk the price this node asks, base units per GiB per period ({@code storage-ask}, in
 *     passes), published with its registration; null: no ask (the node is left out of the price)
 *     (the setting is in passes, {@code prove-collateral = 2.5})
 * @param paid paid storage's holder side, used only with a chain link: {@code paid-storage} (on),
 *     {@code provisional-grace} (10m), {@code provisional-per-owner} (1 GiB), {@code provisional-total}
 *     (an eighth of the capacity, at least 1 GiB), {@code coverage-interval} (30s)
 * @param s3 where the S3 gateway listens ({@code s3 = 127.0.0.1:9000}), or null: no gateway (the default)
 * @param s3Domain virtual-host-style S3 requests name their bucket as {@code BUCKET.s3Domain} ({@code localhost})
 * @param s3AccountFloor base units under which the node's account tops up the S3 namespace's
 *     ({@code s3-account-floor}, in passes, 10 by default; 0: never, the operator funds it)
 */
public record NodeConfig(List<Multiaddr> listen, InetSocketAddress api, boolean apiPublicReads, List<String> apiHosts,
        List<String> apiCorsOrigins, Duration apiBodySilence, List<Multiaddr> bootstrap, int k, int m, int writeQuorum,
        long capacity, Duration scrubInterval, Duration repairInterval, Duration gcInterval, Duration gcGrace,
        List<String> trustOwners, long ownerQuota, long strangersQuota, boolean superNode, Path chainHome, Path cometbft,
        boolean warmUp, List<InetSocketAddress> chainRpc, List<InetSocketAddress> chainMempool, boolean prove,
        java.math.BigInteger proveCollateral, java.math.BigInteger storageAsk, io.oecloud.node.contracts.PaidConfig paid,
        InetSocketAddress s3, String s3Domain, java.math.BigInteger s3AccountFloor) {
    /** A setting that is refused; the message names where it came from, the key and the value. */
    public static final class Invalid extends IllegalArgumentException {
        Invalid(String message) {
            super(message);
        }
    }

    /** The settings file in a node's data directory. */
    public static final String FILE = "node.conf";

    /** Every setting and its default, in the order the file lists them; "" for none (or one derived from others). */
    public static final Map<String, String> DEFAULTS = defaults();
    /** The settings that take several values: repeated lines in the file, repeated flags. */
    public static final List<String> REPEATABLE = List.of("listen", "api-host", "api-cors-origin", "bootstrap", "trust-owner",
            "chain-rpc", "chain-mempool");

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("listen", "/ip4/127.0.0.1/tcp/4001");
        d.put("api", "127.0.0.1:8080");
        d.put("api-public-reads", "true");
        d.put("api-host", "");
        d.put("api-cors-origin", "");
        d.put("api-body-silence", "15s");
        d.put("bootstrap", ""); // none: the peers of the last run (D/peers.txt)
        d.put("k", "4");
        d.put("m", "2");
        d.put("write-quorum", ""); // k + 1
        d.put("allow-weak-write-quorum", "false");
        d.put("capacity", String.valueOf(100L << 30));
        d.put("scrub-interval", "1h");
        d.put("repair-interval", "5m");
        d.put("gc-interval", "10m");
        d.put("gc-grace", "24h");
        d.put("trust-owner", "");
        d.put("owner-quota", String.valueOf(1L << 30));
        d.put("strangers-quota", ""); // capacity / 2
        d.put("super-node", "false");
        d.put("chain-home", ""); // DATA_DIR/cometbft
        d.put("cometbft", ""); // the project's pinned binary
        d.put("chain-rpc", ""); // none: no chain link (a super-node reads its own)
        d.put("chain-mempool", "");
        d.put("warm-up", "true");
        d.put("prove", "false");
        d.put("prove-collateral", ""); // the chain's storage.minCollateral
        d.put("storage-ask", "0.001"); // passes per GiB per period: the chain's default price, until operators say otherwise
        d.put("paid-storage", "true"); // with a chain link: admission, coverage, proving covered blocks only
        d.put("provisional-grace", "10m");
        d.put("provisional-per-owner", String.valueOf(io.oecloud.node.contracts.PaidConfig.DEFAULT_PER_OWNER));
        d.put("provisional-total", ""); // capacity / 8, at least provisional-per-owner
        d.put("coverage-interval", "30s");
        d.put("s3", ""); // off; HOST:PORT runs the S3 gateway there (oe node --s3: 127.0.0.1:9000)
        d.put("s3-domain", "localhost"); // virtual-host-style requests: BUCKET.s3-domain
        // passes: under this the node's account tops the namespace account up to twice it; above what a burst of
        // parallel uploads buys between two checks (a devnet's 20 parallel 5 MiB parts buy about 13 passes)
        d.put("s3-account-floor", "10");
        return java.util.Collections.unmodifiableMap(d);
    }

    public NodeConfig {
        listen = List.copyOf(listen);
        apiHosts = List.copyOf(apiHosts);
        apiCorsOrigins = List.copyOf(apiCorsOrigins);
        bootstrap = List.copyOf(bootstrap);
        trustOwners = List.copyOf(trustOwners);
        chainRpc = List.copyOf(chainRpc);
        chainMempool = List.copyOf(chainMempool);
    }

    /**
     * The settings of the node in {@code dataDir}: {@code dataDir/node.conf} if it exists, each key
     * given in {@code flags} (values as typed, by setting name) replacing the file's, checked once.
     *
     * @throws Invalid naming the source, key and value of the first bad setting
     * @throws IOException if the file exists but cannot be read
     */
    public static NodeConfig load(Path dataDir, Map<String, List<String>> flags) throws IOException {
        Path file = dataDir.resolve(FILE);
        Map<String, List<String>> values = new LinkedHashMap<>();
        Map<String, String> from = new LinkedHashMap<>();
        if (Files.exists(file)) {
            for (var e : read(file).entrySet()) {
                values.put(e.getKey(), e.getValue());
                from.put(e.getKey(), file + ": " + e.getKey());
            }
        }
        for (var e : flags.entrySet()) {
            known(e.getKey(), "flag");
            values.put(e.getKey(), e.getValue());
            from.put(e.getKey(), "--" + e.getKey());
        }
        return of(values, key -> from.getOrDefault(key, key), dataDir);
    }

    /** Settings given as flags alone, no file read: how {@code oe devnet} checks its nodes' settings before writing them. */
    public static NodeConfig ofFlags(Map<String, List<String>> flags, Path dataDir) {
        flags.keySet().forEach(key -> known(key, "flag"));
        return of(flags, key -> "--" + key, dataDir);
    }

    /**
     * Reads a settings file: {@code key = value} lines, {@code #} comments, blank lines.
     *
     * @throws Invalid on an unknown key, a line without {@code =}, or a second value
     *     of a key that takes one, naming the file, line and text
     */
    public static Map<String, List<String>> read(Path file) throws IOException {
        Map<String, List<String>> values = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + " line " + (i + 1);
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new Invalid(where + ": expected KEY = VALUE, was '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            known(key, where + ":");
            List<String> list = values.computeIfAbsent(key, x -> new ArrayList<>());
            if (!list.isEmpty() && !REPEATABLE.contains(key)) {
                throw new Invalid(where + ": " + key + " is set twice (" + list.getFirst() + ", then "
                        + line.substring(eq + 1).strip() + ")");
            }
            list.add(line.substring(eq + 1).strip());
        }
        return values;
    }

    /** Writes settings in {@link #read}'s format, atomically (a node starting meanwhile sees the old file or the new). */
    public static void write(Path file, String comment, Map<String, List<String>> values) throws IOException {
        StringBuilder b = new StringBuilder("# ").append(comment).append('\n');
        for (var e : values.entrySet()) {
            known(e.getKey(), "writing " + file + ":");
            for (String v : e.getValue()) {
                b.append(e.getKey()).append(" = ").append(v).append('\n');
            }
        }
        writeAtomically(file, b.toString());
    }

    /** Replaces {@code file} by {@code content} through a rename, so readers see all of one or the other. */
    public static void writeAtomically(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void known(String key, String where) {
        if (!DEFAULTS.containsKey(key)) {
            throw new Invalid(where + " unknown setting '" + key + "' (known: " + String.join(", ", DEFAULTS.keySet()) + ")");
        }
    }

    /** Checks every setting (the defaults for those not in {@code values}); {@code label} says where a key's value came from. */
    static NodeConfig of(Map<String, List<String>> values, Function<String, String> label, Path dataDir) {
        Values v = new Values(values, label);
        int k = v.integer("k");
        int m = v.integer("m");
        String chainHome = v.one("chain-home");
        String cometbft = v.one("cometbft");
        long capacity = v.number("capacity");
        String strangers = v.one("strangers-quota");
        long ownerQuota = v.number("owner-quota");
        long strangersQuota = strangers.isEmpty() ? capacity / 2 : v.number("strangers-quota");
        if (ownerQuota < 0 || strangersQuota < 0) {
            throw new Invalid(label.apply("owner-quota") + " and " + label.apply("strangers-quota")
                    + " must not be negative, were " + ownerQuota + " and " + strangersQuota);
        }
        NodeConfig c = new NodeConfig(v.multiaddrs("listen"), v.apiAddress(), v.bool("api-public-reads"), v.checked("api-host", ApiAccess::hostName),
                v.checked("api-cors-origin", ApiAccess::corsOrigin), v.duration("api-body-silence"), v.multiaddrs("bootstrap"), k, m,
                v.writeQuorum(k, m), capacity, v.positive("scrub-interval"), v.positive("repair-interval"),
                v.positive("gc-interval"), v.duration("gc-grace"), v.trustOwners(), ownerQuota, strangersQuota,
                v.bool("super-node"), chainHome.isEmpty() ? dataDir.resolve("cometbft") : Path.of(chainHome),
                cometbft.isEmpty() ? null : Path.of(cometbft), v.bool("warm-up"),
                v.hostPorts("chain-rpc"), v.hostPorts("chain-mempool"), v.bool("prove"), proveCollateral(v, label),
                storageAsk(v, label), paid(v, label, capacity), v.one("s3").isEmpty() ? null : v.resolved("s3"), v.one("s3-domain"),
                s3AccountFloor(v, label));
        if (c.prove() && !c.superNode() && c.chainRpc().isEmpty()) {
            throw new Invalid(label.apply("prove") + " needs a chain link: " + label.apply("super-node") + ", or "
                    + label.apply("chain-rpc") + " and " + label.apply("chain-mempool"));
        }
        if (c.chainRpc().isEmpty() != c.chainMempool().isEmpty()) {
            throw new Invalid(label.apply("chain-rpc") + " and " + label.apply("chain-mempool")
                    + " go together (reads from one, transactions to the other), was given " + c.chainRpc().size()
                    + " and " + c.chainMempool().size() + " addresses");
        }
        try {
            c.objectConfig();
        } catch (IllegalArgumentException e) {
            throw new Invalid(label.apply("k") + " " + k + ", " + label.apply("m") + " " + m + ": " + e.getMessage());
        }
        return c;
    }

    private static io.oecloud.node.contracts.PaidConfig paid(Values v, Function<String, String> label, long capacity) {
        long perOwner = v.number("provisional-per-owner");
        String total = v.one("provisional-total");
        long all = total.isEmpty() ? Math.max(perOwner, capacity / 8) : v.number("provisional-total");
        try {
            return new io.oecloud.node.contracts.PaidConfig(v.bool("paid-storage"), v.duration("provisional-grace"), perOwner, all,
                    v.positive("coverage-interval"), io.oecloud.node.contracts.PaidConfig.DEFAULT_MIN_PERIODS,
                    io.oecloud.node.contracts.PaidConfig.DEFAULT_GRACE_PERIODS);
        } catch (IllegalArgumentException e) {
            throw new Invalid(label.apply("provisional-per-owner") + " " + perOwner + ", " + label.apply("provisional-total") + " "
                    + all + ", " + label.apply("provisional-grace") + ": " + e.getMessage());
        }
    }

    private static java.math.BigInteger storageAsk(Values v, Function<String, String> label) {
        return v.one("storage-ask").isEmpty() ? null : passes(v, label, "storage-ask", "per GiB per period (0.001)");
    }

    private static java.math.BigInteger s3AccountFloor(Values v, Function<String, String> label) {
        return passes(v, label, "s3-account-floor", "(10, or 0 for no top-ups)");
    }

    /** Setting {@code key} as base units of passes, from 0 to the ledger's limit; {@code what} shows the form in the error. */
    private static java.math.BigInteger passes(Values v, Function<String, String> label, String key, String what) {
        String passes = v.one(key);
        try {
            java.math.BigInteger units = io.oecloud.chain.ledger.Amounts.parsePasses(passes);
            if (units.signum() < 0 || units.compareTo(io.oecloud.chain.ledger.Amounts.LIMIT) >= 0) {
                throw new IllegalArgumentException("out of range");
            }
            return units;
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new Invalid(label.apply(key) + " must be an amount of passes " + what + ", was '" + passes + "': " + e.getMessage());
        }
    }

    private static java.math.BigInteger proveCollateral(Values v, Function<String, String> label) {
        String passes = v.one("prove-collateral");
        if (passes.isEmpty()) {
            return null;
        }
        try {
            java.math.BigInteger units = io.oecloud.chain.ledger.Amounts.parsePasses(passes);
            if (units.signum() <= 0) {
                throw new IllegalArgumentException("must be more than 0");
            }
            return units;
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new Invalid(label.apply("prove-collateral") + " must be an amount of passes (2.5), was '" + passes + "': "
                    + e.getMessage());
        }
    }

    /** The object pipeline's settings: RS(k, m), 8 MiB segments, 64 KiB inline, 3 manifest copies. */
    ObjectService.Config objectConfig() {
        return new ObjectService.Config(k, m, 8 << 20, 64 * 1024, 3).withWriteQuorum(writeQuorum);
    }

    StorageNode.Upkeep upkeep() {
        return new StorageNode.Upkeep(scrubInterval, repairInterval, gcInterval, gcGrace);
    }

    /** The node's own key is always trusted (the store adds it); trust-owner keys pin without a quota. */
    Quotas quotas() {
        return Quotas.of(ownerQuota, strangersQuota, trustOwners.stream().map(t -> PeerId.parse(t).ed25519PublicKey()).toList());
    }

    /** "500ms", "30s", "5m", "2h", "1d", or ISO-8601 ("PT5M"); an error names {@code name} and the value. */
    public static Duration duration(String v, String name) {
        Matcher m = Pattern.compile("^(\\d{1,9})(ms|s|m|h|d)$").matcher(v.trim());
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(v.trim());
        } catch (java.time.format.DateTimeParseException e) {
            throw new Invalid(name + " must be a duration like 30s, 5m or 24h, was '" + v + "'");
        }
    }

    /** HOST:PORT, port 0 to 65535, host unresolved until used; an error names {@code name} and the value. */
    public static InetSocketAddress hostPort(String v, String name) {
        int colon = v.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new NumberFormatException();
            }
            int port = Integer.parseInt(v.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(v.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new Invalid(name + " must be HOST:PORT, was '" + v + "'");
        }
    }

    /** Multiaddrs, each checked; an error names {@code name} and the value. */
    public static List<Multiaddr> multiaddrs(List<String> values, String name) {
        List<Multiaddr> out = new ArrayList<>();
        for (String v : values) {
            try {
                out.add(Multiaddr.parse(v));
            } catch (IllegalArgumentException e) {
                throw new Invalid(name + " " + v + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** The raw values of one load, each read as its setting's type; errors start with the value's label. */
    private record Values(Map<String, List<String>> raw, Function<String, String> label) {
        List<String> all(String key) {
            List<String> given = raw.get(key);
            if (given != null) {
                return given;
            }
            String d = DEFAULTS.get(key);
            return d.isEmpty() ? List.of() : List.of(d);
        }

        /** Every value of a repeatable key, each passed through {@code check}; an error names the label. */
        List<String> checked(String key, UnaryOperator<String> check) {
            List<String> out = new ArrayList<>();
            for (String v : all(key)) {
                try {
                    out.add(check.apply(v));
                } catch (IllegalArgumentException e) {
                    throw new Invalid(label.apply(key) + " " + e.getMessage());
                }
            }
            return out;
        }

        String one(String key) {
            List<String> vs = all(key);
            if (vs.size() > 1) {
                throw new Invalid(label.apply(key) + " takes one value, was given " + vs);
            }
            return vs.isEmpty() ? "" : vs.getFirst();
        }

        long number(String key) {
            String v = one(key);
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new Invalid(label.apply(key) + " must be a whole number, was '" + v + "'");
            }
        }

        int integer(String key) {
            long n = number(key);
            if (n != (int) n) {
                throw new Invalid(label.apply(key) + " is too large, was " + n);
            }
            return (int) n;
        }

        boolean bool(String key) {
            String v = one(key);
            return switch (v) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new Invalid(label.apply(key) + " must be true or false, was '" + v + "'");
            };
        }

        Duration duration(String key) {
            return NodeConfig.duration(one(key), label.apply(key));
        }

        /** A period of upkeep: a zero one would spin. */
        Duration positive(String key) {
            Duration d = duration(key);
            if (d.isNegative() || d.isZero()) {
                throw new Invalid(label.apply(key) + " must be positive, was '" + one(key) + "'");
            }
            return d;
        }

        List<Multiaddr> multiaddrs(String key) {
            return NodeConfig.multiaddrs(all(key), label.apply(key));
        }

        /** HOST:PORT values, each checked (an unresolved name is kept: it may resolve later). */
        List<InetSocketAddress> hostPorts(String key) {
            List<InetSocketAddress> out = new ArrayList<>();
            for (String v : all(key)) {
                out.add(hostPort(v, label.apply(key)));
            }
            return out;
        }

        InetSocketAddress apiAddress() {
            return resolved("api");
        }

        /** A HOST:PORT to listen on: its host must resolve. */
        InetSocketAddress resolved(String key) {
            String v = one(key);
            InetSocketAddress a = hostPort(v, label.apply(key));
            if (a.isUnresolved()) {
                throw new Invalid(label.apply(key) + " " + v + ": the host name does not resolve");
            }
            return a;
        }

        /**
         * From k + 1 to k + m (k only with allow-weak-write-quorum, which says the user accepts uploads
         * that may have no spare shard); the default k + 1.
         */
        int writeQuorum(int k, int m) {
            boolean weak = bool("allow-weak-write-quorum");
            int q = one("write-quorum").isEmpty() ? ObjectService.Config.defaultWriteQuorum(k, m) : integer("write-quorum");
            String named = label.apply("write-quorum") + " " + q;
            if (q < k) {
                throw new Invalid(named + " is fewer than k = " + k + ": a segment cannot be read back from fewer than k shards");
            } else if (q > k + m) {
                throw new Invalid(named + " is more than the k + m = " + (k + m) + " shards of a segment");
            } else if (q == k && m > 0 && !weak) {
                throw new Invalid(named + " is k: an upload could succeed with no spare shard in a segment, so one more "
                        + "lost node before repair would lose data; use " + (k + 1) + " or more, or add --allow-weak-write-quorum to accept that");
            }
            return q;
        }

        List<String> trustOwners() {
            String named = label.apply("trust-owner");
            for (String t : all("trust-owner")) {
                byte[] key;
                try {
                    key = PeerId.parse(t).ed25519PublicKey();
                } catch (IllegalArgumentException e) {
                    throw new Invalid(named + " " + t + " is not a peer ID: " + e.getMessage());
                }
                if (key == null) {
                    throw new Invalid(named + " " + t + " is not an Ed25519 peer ID (12D3KooW...)");
                }
            }
            return all("trust-owner");
        }
    }
}
