package io.oecloud.chain.node;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.chain.client.ChainViews;
import io.oecloud.dht.PeerId;
import io.oecloud.http.HttpError;
import io.oecloud.http.Json;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A super-node's chain routes for an HTTP API built on the project's front ({@code http}'s
 * {@link Router}): OEChain through this super-node's CometBFT (the views are {@link ChainViews},
 * the mempool {@link TxServer#submit}; this class routes and checks arguments). storage-node's API
 * mounts them; what they answer is the chain's business, so they live here:
 * <pre>
 *   GET  /v1/chain/status, /v1/chain/validators, /v1/chain/candidates, /v1/chain/params, /v1/chain/beacon
 *   GET  /v1/chain/supply                         (the supply invariant of the committed state, part by part)
 *   GET  /v1/chain/accounts/{addr}[?prove=true], /v1/chain/accounts/{addr}/txs, /v1/chain/txs/{hash}
 *   GET  /v1/chain/cids/{cid}[?prove=true]
 *   GET  /v1/chain/names/{name}[?prove=true]     (a name's owner and root CID; 404 when unregistered)
 *   GET  /v1/chain/storage-nodes, /v1/chain/storage-nodes/{peer}   (registered storage nodes: collateral, record, roots, faults)
 *   GET  /v1/chain/storage-faults[?after=NEXT]   (every node's fault lists the chain holds, a page at a time)
 *   GET  /v1/chain/price                          (the storage price of the current period and the asks it came from)
 *   GET  /v1/chain/contract/{cid}?payer=ADDR      (one storage contract)
 *   GET  /v1/chain/contracts?payer=ADDR|holder=ADDR[&cursor=NEXT]   (contracts paid or held, 1,000 a page)
 *   GET  /v1/chain/payments/{addr}                (a storage node's rate and recent payments)
 *   GET  /v1/chain/light/commit/{height}, /v1/chain/light/validators/{height}   (what a light client checks)
 *   POST /v1/chain/txs[?wait=commit]   body = signed transaction bytes, into the ledger's mempool
 *   GET  /v1/chain/mempool             {"pending"}
 * </pre>
 * On a node that is not a super-node every {@code /v1/chain/} path is 404 saying so ({@link #NOT_SUPER_NODE}).
 */
public final class ChainRoutes {
    /** What a node that is not a super-node answers (404) for every {@code /v1/chain/} path. */
    public static final String NOT_SUPER_NODE = "this node is not a super-node: OEChain is served by nodes started with --super-node";

    private final ChainViews chain;
    private final LedgerApp ledger;

    /** Routes over {@code chain} (its CometRpc stays its owner's to close) and {@code ledger}'s mempool. */
    public ChainRoutes(ChainViews chain, LedgerApp ledger) {
        this.chain = chain;
        this.ledger = ledger;
    }

    /** Adds the routes above to {@code router}. */
    public void addTo(Router<Route> router) {
        router.add(HttpMethod.GET, "/v1/chain/status", r -> view(chain.status()))
                .add(HttpMethod.GET, "/v1/chain/validators", r -> view(chain.validators()))
                .add(HttpMethod.GET, "/v1/chain/candidates", r -> view(chain.candidates()))
                .add(HttpMethod.GET, "/v1/chain/params", r -> view(chain.params()))
                .add(HttpMethod.GET, "/v1/chain/supply", r -> view(chain.supply()))
                .add(HttpMethod.GET, "/v1/chain/beacon", r -> view(chain.beacon()))
                .add(HttpMethod.GET, "/v1/chain/storage-nodes", r -> view(chain.storageNodes()))
                .add(HttpMethod.GET, "/v1/chain/storage-faults", r -> {
                    String after = r.query().parameters().getOrDefault("after", java.util.List.of("")).get(0);
                    if (after.length() > 160) {
                        throw new HttpError(HttpResponseStatus.BAD_REQUEST, "a cursor is ADDRESS/PERIOD, at most 160 characters");
                    }
                    return view(chain.storageFaults(after));
                })
                .add(HttpMethod.GET, "/v1/chain/price", r -> view(chain.price()))
                .add(HttpMethod.GET, "/v1/chain/contract/{cid...}", r -> {
                    String payer = r.query().parameters().getOrDefault("payer", java.util.List.of("")).get(0);
                    if (payer.isEmpty()) {
                        throw new HttpError(HttpResponseStatus.BAD_REQUEST, "name the contract's payer: /v1/chain/contract/CID?payer=ADDRESS");
                    }
                    peerId(payer);
                    return view(chain.contract(cid(r.param("cid")).toString(), payer));
                })
                .add(HttpMethod.GET, "/v1/chain/contracts", r -> {
                    Map<String, java.util.List<String>> q = r.query().parameters();
                    String payer = q.getOrDefault("payer", java.util.List.of("")).get(0);
                    String holder = q.getOrDefault("holder", java.util.List.of("")).get(0);
                    String cursor = q.getOrDefault("cursor", java.util.List.of("")).get(0);
                    if (payer.isEmpty() == holder.isEmpty()) {
                        throw new HttpError(HttpResponseStatus.BAD_REQUEST, "name either payer=ADDRESS or holder=ADDRESS");
                    }
                    if (cursor.length() > 200) {
                        throw new HttpError(HttpResponseStatus.BAD_REQUEST, "a cursor is the \"next\" of the page before, at most 200 characters");
                    }
                    peerId(payer.isEmpty() ? holder : payer);
                    return view(chain.contracts(payer.isEmpty() ? holder : payer, !payer.isEmpty(), cursor));
                })
                .add(HttpMethod.GET, "/v1/chain/payments/{addr...}", r -> {
                    peerId(r.param("addr"));
                    return view(chain.payments(r.param("addr")));
                })
                .add(HttpMethod.GET, "/v1/chain/storage-nodes/{peer...}", r -> {
                    peerId(r.param("peer"));
                    return view(chain.storageNode(r.param("peer")));
                })
                .add(HttpMethod.GET, "/v1/chain/txs/{hash...}", r -> {
                    String hash = r.param("hash");
                    if (!hash.matches("(?i)(0x)?[0-9a-f]{64}")) {
                        throw new HttpError(HttpResponseStatus.BAD_REQUEST, "a transaction hash is 64 hex digits, not '" + hash + "'");
                    }
                    return view(chain.tx(hash));
                })
                .add(HttpMethod.GET, "/v1/chain/accounts/{addr}/txs", r -> {
                    peerId(r.param("addr")); // 400 for a malformed address
                    return view(chain.history(r.param("addr")));
                })
                .add(HttpMethod.GET, "/v1/chain/accounts/{addr...}", r -> {
                    peerId(r.param("addr"));
                    return view(chain.account(r.param("addr"), r.flag("prove", "true")));
                })
                .add(HttpMethod.GET, "/v1/chain/cids/{cid...}", r ->
                        view(chain.cid(cid(r.param("cid")).toString(), r.flag("prove", "true"))))
                .add(HttpMethod.GET, "/v1/chain/names/{name...}", r -> {
                    String why = io.oecloud.chain.ledger.Names.problem(r.param("name"));
                    if (why != null) {
                        throw new HttpError(HttpResponseStatus.BAD_REQUEST, why);
                    }
                    return view(chain.name(r.param("name"), r.flag("prove", "true")));
                })
                .add(HttpMethod.GET, "/v1/chain/light/{rest...}", r -> light(r.param("rest")))
                .add(HttpMethod.POST, "/v1/chain/txs", r -> TxServer.submit(ledger, r.body(), r.flag("wait", "commit"))
                        .thenApply(a -> Json.response(HttpResponseStatus.valueOf(a.status()), a.body())))
                .add(HttpMethod.GET, "/v1/chain/mempool", r ->
                        CompletableFuture.completedFuture(Json.response(HttpResponseStatus.OK, Map.of("pending", ledger.pending()))));
    }

    private CompletableFuture<FullHttpResponse> light(String rest) {
        String[] parts = rest.split("/");
        long height;
        try {
            height = parts.length == 2 ? Long.parseLong(parts[1]) : -1;
        } catch (NumberFormatException e) {
            height = -1;
        }
        if (height < 1 || !(parts[0].equals("commit") || parts[0].equals("validators"))) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "use /v1/chain/light/commit/HEIGHT or /v1/chain/light/validators/HEIGHT");
        }
        return view(parts[0].equals("commit") ? chain.lightCommit(height) : chain.lightValidators(height));
    }

    /** 400 for an address that is not a peer ID (an account's address is its key's peer ID). */
    private static void peerId(String s) {
        try {
            PeerId.parse(s);
        } catch (IllegalArgumentException e) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "malformed peer ID '" + s + "': " + e.getMessage());
        }
    }

    private static Cid cid(String s) {
        try {
            return Cid.parse(s);
        } catch (CidFormatException e) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "malformed CID '" + s + "': " + e.getMessage());
        }
    }

    /** A chain view answered with its status and JSON body. */
    private static CompletableFuture<FullHttpResponse> view(CompletableFuture<ChainViews.View> v) {
        return v.thenApply(x -> Json.response(HttpResponseStatus.valueOf(x.status()), x.body()));
    }
}
