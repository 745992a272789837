package io.oecloud.node;

import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.TxSignatures;
import io.oecloud.chain.node.ChainNode;
import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.api.ApiAccess;
import io.oecloud.node.api.ApiToken;
import io.oecloud.node.api.NodeApiServer;
import io.oecloud.node.proving.Prover;
import io.oecloud.node.proving.ProvingRole;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running node: its roles started from one {@link NodeConfig} through {@link Roles}, in
 * dependency order: storage (store, p2p host and DHT, object service, upkeep), then the super-node
 * (ledger and CometBFT; the API serves its routes), then the chain link (the node's account and
 * transactions: through its own ledger on a super-node, through {@code chain-rpc} and
 * {@code chain-mempool} elsewhere), then the proving role when {@code prove} is set, then the chain's
 * records (fault lists for repair, standings for placement: {@link ChainRecords}), then the HTTP API, whose address goes to
 * {@code DATA_DIR/api} last, for client commands to find. {@link #close} closes them in reverse.
 */
public final class Node implements AutoCloseable {
    /** The file in the data directory that tells client commands where the API listens. */
    public static final String API_FILE = "api";

    /** How often a node reads its account from the chain, and how long one call to a super-node may take. */
    private static final Duration CHAIN_REFRESH = Duration.ofSeconds(5);
    private static final long CHAIN_DEADLINE_MILLIS = 10_000;
    /** How often the proving role looks at the chain's height (devnet blocks come every ~0.5-1 s). */
    private static final Duration PROVING_TICK = Duration.ofMillis(500);
    /** How often a super-node's auditor role looks at the chain's window, and how long a node trusts its read of the committee. */
    private static final Duration AUDIT_TICK = Duration.ofSeconds(1);
    private static final Duration COMMITTEE_FRESH = Duration.ofSeconds(1);
    /** How often a node reads the chain's storage-node records and fault lists (repair and placement follow them). */
    private static final Duration CHAIN_RECORDS_REFRESH = Duration.ofSeconds(10);

    private final Roles roles;

    /**
     * The storage role's status with the chain link's under "chain", the chain's records of holders
     * under "chainRecords", the proving role's (when it runs) under "proving" and the audits' under
     * "audits" (this node's record as the chain keeps it is in "proving"; here: audits answered,
     * and a super-node's auditor role).
     */
    private record WithChain(StorageNode storage, ChainLink link, ProvingRole proving, ChainRecords records,
                             java.util.function.Supplier<Map<String, Object>> audits, io.oecloud.node.contracts.HolderSide holder)
            implements NodeApiServer.StatusSource {
        @Override
        public Map<String, Object> status() {
            Map<String, Object> m = new LinkedHashMap<>(storage.status());
            m.put("chain", link.status());
            m.put("chainRecords", records.status());
            if (proving != null) {
                m.put("proving", proving.status());
            }
            if (audits != null) {
                m.put("audits", audits.get());
            }
            if (holder != null) {
                m.put("holder", holder.view().toMap());
            }
            return m;
        }

        @Override
        public String metrics() {
            return storage.metrics();
        }

        @Override
        public Map<String, Object> upkeepNow() {
            return storage.upkeepNow();
        }
    }

    private Node(Roles roles) {
        this.roles = roles;
    }

    /**
     * Starts the node in {@code dataDir} and reports on {@code out} (peer ID, addresses, API, "ready"
     * last) and {@code err} (warnings). On a failure the roles started so far are closed.
     *
     * @throws NodeConfig.Invalid if an API host or CORS origin is malformed (nothing started)
     */
    public static Node start(NodeConfig config, Path dataDir, PrintWriter out, PrintWriter err) throws Exception {
        InetSocketAddress apiAddr = config.api();
        String api = apiAddr.getHostString() + ":" + apiAddr.getPort();
        NodeApiServer.Limits apiLimits = NodeApiServer.Limits.defaults().withBodySilence(config.apiBodySilence());
        ApiToken token = ApiToken.loadOrCreate(dataDir);
        ApiAccess access;
        try {
            access = new ApiAccess(token, config.apiPublicReads(), config.apiHosts(), config.apiCorsOrigins());
        } catch (IllegalArgumentException e) {
            throw new NodeConfig.Invalid(e.getMessage());
        }
        if (NodeApiServer.exposed(apiAddr)) {
            err.println("warning: the HTTP API listens on " + api + ", reachable from other machines. Every route that changes state"
                    + " or reveals private data needs the token in " + dataDir.resolve(ApiToken.FILE) + ", and plain HTTP carries it in"
                    + " clear: to expose a node, keep --api on 127.0.0.1 behind a TLS reverse proxy (name it with --api-host), or reach it"
                    + " through an SSH tunnel" + (config.apiPublicReads() ? "; unencrypted objects are readable by anyone who knows their CID"
                    + " (--no-api-public-reads closes that)" : "") + ".");
            err.flush();
        }
        Identity id = Identity.loadOrCreate(dataDir);
        // The S3 namespace key owns the gateway's objects (pins, manifests, encryption, contracts); the
        // node's own store holds them as freely as the node's own.
        Identity namespaceKey = config.s3() == null ? null : Identity.loadOrCreate(dataDir.resolve("s3"));
        io.oecloud.node.store.Quotas quotas = namespaceKey == null ? config.quotas() : config.quotas().trusting(namespaceKey.publicKey());
        Roles roles = new Roles();
        StorageNode storage = roles.start("storage", () -> StorageNode.start(id, config.listen(), dataDir, config.capacity(),
                config.objectConfig(), config.upkeep(), quotas));
        if (config.warmUp()) {
            Warmup.start(config.k(), config.m(), config.objectConfig().segmentSize());
        }
        P2pNode p2p = storage.p2p;
        ChainNode chain = null;
        if (config.superNode()) {
            chain = roles.start("super-node", () -> ChainNode.start(Cometbft.binary(config.cometbft()), config.chainHome(),
                    dataDir.resolve("ledger"), id));
            ChainNode started = chain;
            roles.start("chain gauges", () -> new ChainGauges(started, storage.metrics));
        }
        ChainNode chainNode = chain;
        ChainClient.Endpoints endpoints = chainNode != null
                ? new ChainClient.Endpoints(List.of(chainNode.rpcAddress()), List.of(chainNode.txAddress()))
                : config.chainRpc().isEmpty() ? null : new ChainClient.Endpoints(config.chainRpc(), config.chainMempool());
        ChainLink link = endpoints == null ? null : roles.start("chain link",
                () -> ChainLink.start(new ChainClient(endpoints, id, CHAIN_DEADLINE_MILLIS), CHAIN_REFRESH, InstantSource.system()));
        // Paid storage's holder side: PUTs admitted while their owners can pay, receipts, the blocks contracts cover.
        io.oecloud.node.contracts.HolderSide holder = link == null || !config.paid().enabled() ? null : roles.start("paid storage", () -> {
            List<AutoCloseable> rpcs = new java.util.ArrayList<>();
            io.oecloud.node.contracts.ChainSource source = io.oecloud.node.contracts.HolderSide.over(endpoints.rpc(), CHAIN_DEADLINE_MILLIS, rpcs);
            return io.oecloud.node.contracts.HolderSide.start(storage.store, storage.server, storage.shards, id, source,
                    () -> link.client().chainId(), config.paid(), InstantSource.system(), storage.metrics).owning(rpcs);
        });
        // with paid storage the root names what contracts pay for (held, or lost and declared), and nothing else
        ProvingRole proving = link == null || !config.prove() ? null : roles.start("proving",
                () -> new ProvingRole(link.client(), endpoints.rpc(), holder == null ? new Prover(storage.store)
                        : Prover.ofContracts(storage.store, holder.owes()), storage.store, storage.metrics,
                        config.proveCollateral(), config.capacity()).asking(config.storageAsk()).leftMarker(dataDir.resolve(ProvingRole.LEFT_MARKER))
                        .start(PROVING_TICK));
        // The chain's fault lists reach repair, its records placement: read in the background, from memory for callers.
        ChainRecords records = link == null ? null : roles.start("chain records", () -> {
            ChainRecords r = ChainRecords.over(endpoints.rpc(), CHAIN_DEADLINE_MILLIS, InstantSource.system(), storage.metrics);
            storage.followChain(r);
            return r.start(CHAIN_RECORDS_REFRESH, storage::chainRecordsChanged);
        });
        java.util.function.Supplier<Map<String, Object>> audits = link == null ? null
                : startAudits(roles, config, storage, link, endpoints.rpc(), Ledger.address(id.publicKey()));
        // Paid storage, the payer side (with the holder side: the same setting): uploads buy contracts from this node's account.
        Paying paying = holder == null ? null : startPaying(roles, config, storage, link, endpoints.rpc(), id);
        NodeApiServer.StatusSource status = link == null ? storage : new WithChain(storage, link, proving, records, audits, holder);
        NodeApiServer server = roles.start("API", () -> {
            NodeApiServer s = new NodeApiServer(p2p.service(() -> { }), storage.objects, access, apiLimits).withStatus(status);
            if (chainNode != null) {
                s.withChain(chainNode.rpc(), chainNode.app());
            }
            if (paying != null) {
                s.withPayer(paying.buyer(), paying.view()::status);
            }
            s.start(apiAddr);
            return s;
        });
        Path apiFile = dataDir.resolve(API_FILE);
        InetSocketAddress bound = server.address();
        roles.start("API file", () -> {
            NodeConfig.writeAtomically(apiFile, bound.getHostString() + ":" + bound.getPort() + "\n");
            // best effort at close: a stale file only makes clients say no node answers
            return () -> Files.deleteIfExists(apiFile);
        });
        if (config.s3() != null) {
            StorageNode.Owned gateway = storage.owning(namespaceKey);
            ChainClient namespaceClient = link == null ? null : new ChainClient(endpoints, namespaceKey, CHAIN_DEADLINE_MILLIS);
            io.oecloud.node.paying.FundedAccount funds = link == null ? null : roles.start("S3 namespace account",
                    () -> new io.oecloud.node.paying.FundedAccount(io.oecloud.node.paying.PayerAccount.of(namespaceClient),
                            io.oecloud.node.paying.PayerAccount.of(link.client()), config.s3AccountFloor()).start(NAMESPACE_FUNDS_CHECK));
            io.oecloud.node.paying.ContractBuyer namespaceBuyer = paying == null ? null
                    : startNamespacePaying(roles, config, storage, link, endpoints.rpc(), gateway, funds);
            io.oecloud.node.s3.S3Server s3 = roles.start("S3 gateway", () -> io.oecloud.node.s3.S3Server.start(
                    io.oecloud.node.s3.S3Server.Config.defaults(config.s3()).withDomain(config.s3Domain()), dataDir, gateway.objects(),
                    namespaceBuyer, key -> {
                        out.println("S3 access key created (shown once; `oe s3 keys create` makes more): AWS_ACCESS_KEY_ID="
                                + key.accessKeyId() + " AWS_SECRET_ACCESS_KEY=" + key.secret());
                    }, link == null ? null : new io.oecloud.node.s3.ChainNamePublisher(namespaceClient, funds)));
            if (namespaceBuyer != null) { // after the gateway: what it still refers to is what gets renewed
                roles.start("S3 contract keeper", () -> new io.oecloud.node.paying.ContractKeeper(namespaceBuyer,
                        cid -> storage.repairPaid(gateway, cid), storage.metrics, new io.oecloud.node.paying.Renewal(s3.piecesInUse(),
                        S3_RENEWAL_MARGIN, io.oecloud.node.paying.Terms.DEFAULT)).start(config.upkeep().repair()));
            }
            out.println("S3 gateway on http://" + s3.address().getHostString() + ":" + s3.address().getPort()
                    + " (region us-east-1, path style or BUCKET." + config.s3Domain() + "; keys in " + s3.keys().file() + ")");
            out.println("S3 objects owned by the namespace key " + dataDir.resolve("s3").resolve(Identity.KEY_FILE)
                    + (funds == null ? "" : " (account " + funds.address() + ", kept at "
                    + new java.math.BigDecimal(config.s3AccountFloor()).movePointLeft(18).stripTrailingZeros().toPlainString()
                    + " passes or more by this node's account)"));
            if (s3.snapshots() != null) {
                out.println("S3 namespace snapshots published as the name " + s3.snapshots().name() + " on OEChain (namespace key: "
                        + dataDir.resolve("s3").resolve(Identity.KEY_FILE) + "; `oe s3 restore` rebuilds the namespace from it)");
            }
        }
        report(config, dataDir, id, storage, chainNode, bound, apiFile, out, err);
        return new Node(roles);
    }

    /** The payer side's parts: the buyer of contracts and the paid-storage view of the status. */
    private record Paying(io.oecloud.node.paying.ContractBuyer buyer, io.oecloud.node.paying.PaidStorageView view) {}

    /**
     * The S3 gateway renews a contract whose paid periods end within this, while a key or part still
     * refers to its piece, by {@link io.oecloud.node.paying.Terms#DEFAULT} (30 days): a week leaves
     * room for many keeper runs (one a repair interval) to retry a refused renewal.
     */
    static final Duration S3_RENEWAL_MARGIN = Duration.ofDays(7);

    /** How long an upload waits for its holders' receipts before it buys the contract with those it has. */
    private static final Duration RECEIPT_DEADLINE = Duration.ofSeconds(20);
    /** How often the status's paid-storage figures are read from the chain. */
    private static final Duration PAID_STORAGE_REFRESH = Duration.ofSeconds(10);

    /**
     * The payer side (io.oecloud.node.paying): a {@link io.oecloud.node.paying.ContractBuyer} whose
     * receipts come over the shard protocol (this node's own signed locally), told by repair when it
     * moved blocks; a {@link io.oecloud.node.paying.ContractKeeper} that repairs the paid objects from
     * this node at the repair interval; the paid-storage figures of the status. (This node's shard server signs others'
     * receipts through the holder side, {@link io.oecloud.node.contracts.HolderSide}.)
     */
    private static Paying startPaying(Roles roles, NodeConfig config, StorageNode storage, ChainLink link, List<InetSocketAddress> rpc,
                                      Identity id)
            throws Exception {
        java.util.function.Function<String, io.oecloud.node.shard.Receipts> signer = chainId -> new io.oecloud.node.shard.Receipts(
                storage.store, id, chainId, new io.oecloud.node.contracts.ManifestBlocks(storage.store, storage.shards, 30_000));
        io.oecloud.node.paying.NodeReceipts receipts = new io.oecloud.node.paying.NodeReceipts(storage.p2p.host.peerId(), storage.shards,
                link.client()::chainId, signer, storage.io);
        io.oecloud.node.paying.ContractBuyer buyer = roles.start("contract buyer", () -> new io.oecloud.node.paying.ContractBuyer(
                io.oecloud.node.paying.PayerChain.over(rpc, CHAIN_DEADLINE_MILLIS), io.oecloud.node.paying.PayerAccount.of(link.client()),
                receipts, id.publicKey(), RECEIPT_DEADLINE, storage.metrics));
        storage.onRepairPlaced(buyer);
        roles.start("contract keeper", () -> new io.oecloud.node.paying.ContractKeeper(buyer, storage::repairPaid, storage.metrics)
                .start(config.upkeep().repair()));
        io.oecloud.node.paying.PaidStorageView view = roles.start("paid storage view", () -> new io.oecloud.node.paying.PaidStorageView(
                io.oecloud.node.paying.PayerChain.over(rpc, CHAIN_DEADLINE_MILLIS), Ledger.address(id.publicKey()), InstantSource.system(),
                storage.metrics).start(PAID_STORAGE_REFRESH));
        return new Paying(buyer, view);
    }

    /** How often the node checks that the S3 namespace's account holds its floor. */
    private static final Duration NAMESPACE_FUNDS_CHECK = Duration.ofSeconds(30);

    /**
     * The payer side of the S3 gateway's objects: a {@link io.oecloud.node.paying.ContractBuyer} for
     * the namespace key's account ({@code funds}), whose receipts are asked for that key's pins, told
     * by the namespace's repair when it moved blocks. (Its {@link io.oecloud.node.paying.ContractKeeper},
     * started once the gateway runs, repairs the namespace's paid objects from this node with pins of
     * the namespace key and renews those a key still refers to.) Any node holding the namespace key
     * can end, renew and repair these contracts.
     */
    private static io.oecloud.node.paying.ContractBuyer startNamespacePaying(Roles roles, NodeConfig config, StorageNode storage,
            ChainLink link, List<InetSocketAddress> rpc, StorageNode.Owned gateway, io.oecloud.node.paying.PayerAccount funds)
            throws Exception {
        Identity holderKey = storage.p2p.host.identity(); // this node signs receipts as a holder; the payer is the namespace
        java.util.function.Function<String, io.oecloud.node.shard.Receipts> signer = chainId -> new io.oecloud.node.shard.Receipts(
                storage.store, holderKey, chainId, new io.oecloud.node.contracts.ManifestBlocks(storage.store, storage.shards, 30_000));
        io.oecloud.node.paying.NodeReceipts receipts = new io.oecloud.node.paying.NodeReceipts(storage.p2p.host.peerId(),
                gateway.shards(), link.client()::chainId, signer, storage.io);
        io.oecloud.node.paying.ContractBuyer buyer = roles.start("S3 contract buyer", () -> new io.oecloud.node.paying.ContractBuyer(
                io.oecloud.node.paying.PayerChain.over(rpc, CHAIN_DEADLINE_MILLIS), funds, receipts, gateway.shards().signerKey(),
                RECEIPT_DEADLINE, storage.metrics));
        gateway.onRepairPlaced(buyer);
        return buyer;
    }

    /**
     * Timed retrieval audits (storage-node/README.md, "Timed retrieval audits"): every node with a
     * chain link answers {@code /oe/proof/1.0.0} to the chain's committee; a super-node also runs
     * the auditor role (it audits when the chain draws it). Returns the "audits" status.
     */
    private static java.util.function.Supplier<Map<String, Object>> startAudits(Roles roles, NodeConfig config, StorageNode storage,
            ChainLink link, List<InetSocketAddress> rpc, String self) throws Exception {
        io.oecloud.node.audit.AuditChain chain = roles.start("audit chain view", () -> io.oecloud.node.audit.AuditChain.over(link.client(), rpc));
        io.oecloud.node.audit.AuditServer server = roles.start("audit answers", () -> {
            io.oecloud.node.audit.AuditServer s = new io.oecloud.node.audit.AuditServer(storage.store,
                    new io.oecloud.node.audit.CommitteeGate(chain, COMMITTEE_FRESH), io.oecloud.node.audit.AuditServer.Limits.defaults());
            storage.p2p.host.setStreamHandler(io.oecloud.node.audit.AuditProtocol.PROTOCOL_ID, s::newHandler);
            return s;
        });
        io.micrometer.core.instrument.FunctionCounter.builder("oe_audits_answered_total", server, io.oecloud.node.audit.AuditServer::answered)
                .description("Audits this node answered for a committee member (its proof sent, or why not)").register(storage.metrics);
        io.oecloud.node.audit.AuditorRole auditor = !config.superNode() ? null : roles.start("auditor", () ->
                new io.oecloud.node.audit.AuditorRole(chain, new io.oecloud.node.audit.AuditClient(storage.p2p.host), self,
                        peer -> storage.p2p.host.connect(peer).exceptionallyCompose(e -> storage.p2p.dht.findPeer(peer)
                                .thenCompose(addrs -> storage.p2p.host.dial(addrs.getFirst().withPeerId(peer)))),
                        storage.metrics).start(AUDIT_TICK));
        io.oecloud.node.audit.AuditRecordView record = roles.start("audit record",
                () -> new io.oecloud.node.audit.AuditRecordView(chain, self, Duration.ofSeconds(5)));
        return () -> {
            Map<String, Object> m = new LinkedHashMap<>(record.status());
            m.put("answered", server.answered());
            m.put("refused", server.refused());
            m.put("malformed", server.malformed());
            if (auditor != null) {
                m.put("auditor", auditor.status());
            }
            return m;
        };
    }

    private static void report(NodeConfig config, Path dataDir, Identity id, StorageNode storage, ChainNode chainNode,
            InetSocketAddress bound, Path apiFile, PrintWriter out, PrintWriter err) {
        P2pNode node = storage.p2p;
        out.println("peer ID " + id.peerId());
        for (Multiaddr a : node.host.listenAddresses()) {
            out.println("listening on " + a.withPeerId(id.peerId()));
        }
        out.println("API on http://" + bound.getHostString() + ":" + bound.getPort() + " (written to " + apiFile + "; its token is in "
                + dataDir.resolve(ApiToken.FILE) + ")");
        out.flush();
        List<Multiaddr> boot = config.bootstrap();
        List<?> reached = node.bootstrap(boot, err);
        if (!boot.isEmpty() && reached.isEmpty()) {
            err.println("warning: no bootstrap peer reached; running alone");
        }
        int k = config.k();
        int quorum = config.writeQuorum();
        if (quorum == k) {
            err.println("warning: write quorum " + quorum + " = k: an upload may succeed with no spare shard in a segment; "
                    + "until repair restores it, one more lost node loses data");
        }
        out.println("RS(" + k + "," + config.m() + "), write quorum " + quorum + " of " + (k + config.m()) + " shards, store "
                + dataDir.resolve("store") + " (" + config.capacity() + " bytes, "
                + (storage.store.directIo() ? "direct I/O" : "page cache") + ")");
        if (chainNode != null) {
            out.println("super-node: OEChain RPC on http://" + chainNode.rpcAddress().getHostString() + ":"
                    + chainNode.rpcAddress().getPort() + " (CometBFT pid " + chainNode.enginePid() + "), mempool and gossip on http://"
                    + chainNode.txAddress().getHostString() + ":" + chainNode.txAddress().getPort() + ", transaction signatures checked by "
                    + TxSignatures.backend());
        } else if (!config.chainRpc().isEmpty()) {
            out.println("chain link: account " + Ledger.address(id.publicKey()) + ", reads from " + hostPorts(config.chainRpc())
                    + ", transactions to " + hostPorts(config.chainMempool()));
        }
        out.println("DHT server, routing table " + node.dht.routingTableSize() + " peers; ready");
        out.flush();
    }

    private static String hostPorts(List<InetSocketAddress> as) {
        return String.join(", ", as.stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
    }

    /** Closes the roles in reverse order of their start: the API file and API first, storage last. */
    @Override
    public void close() {
        roles.close();
    }
}
