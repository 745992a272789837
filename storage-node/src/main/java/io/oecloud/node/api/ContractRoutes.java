package io.oecloud.node.api;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.http.HttpError;
import io.oecloud.http.Json;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.paying.ContractBuyer;
import io.oecloud.node.paying.Terms;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The storage contracts this node's account pays for (a node with a chain link only):
 * <pre>
 *   GET  /v1/contracts                   -> {"payer", "contracts": [{object, bytes, costPerPeriod, escrow, paidThrough, paidUntil, holders}]}
 *   GET  /v1/contracts/{cid}             -> one contract, 404 when the account has none for it
 *   POST /v1/contracts/{cid}/renew?periods=N|days=D -> the contract after the renewal (402: the account cannot pay)
 * </pre>
 * Ending a contract is {@code DELETE /v1/objects/{cid}} (the refund is in its answer). The work reads
 * and writes the chain, so it runs on {@code work}; failures map once through {@link Failures}.
 */
final class ContractRoutes {
    private final ContractBuyer buyer;
    private final Executor work;

    ContractRoutes(ContractBuyer buyer, Executor work) {
        this.buyer = buyer;
        this.work = work;
    }

    void addTo(Router<Route> router) {
        router.add(HttpMethod.GET, "/v1/contracts", r -> async(() -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (ContractBuyer.Bought b : buyer.contracts()) {
                out.add(b.toMap());
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("payer", buyer.payer());
            m.put("contracts", out);
            return Json.response(HttpResponseStatus.OK, m);
        })).add(HttpMethod.GET, "/v1/contracts/{cid}", r -> {
            Cid cid = cid(r.param("cid"));
            return async(() -> {
                ContractBuyer.Bought b = buyer.contract(cid);
                if (b == null) {
                    throw new HttpError(HttpResponseStatus.NOT_FOUND, "this node's account " + buyer.payer() + " has no contract for " + cid);
                }
                return Json.response(HttpResponseStatus.OK, b.toMap());
            });
        }).add(HttpMethod.POST, "/v1/contracts/{cid}/renew", r -> {
            Cid cid = cid(r.param("cid"));
            Terms terms;
            try {
                terms = UploadHandler.terms(r.query().parameters());
            } catch (IllegalArgumentException e) {
                throw new HttpError(HttpResponseStatus.BAD_REQUEST, e.getMessage());
            }
            if (!r.query().parameters().containsKey("periods") && !r.query().parameters().containsKey("days")) {
                throw new HttpError(HttpResponseStatus.BAD_REQUEST, "a renewal needs ?periods=N or ?days=D");
            }
            return async(() -> Json.response(HttpResponseStatus.OK, buyer.renew(cid, terms).toMap()));
        });
    }

    private interface Work {
        FullHttpResponse run() throws ObjectException;
    }

    private CompletableFuture<FullHttpResponse> async(Work w) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return w.run();
            } catch (ObjectException e) {
                return Failures.answer(e);
            }
        }, work);
    }

    private static Cid cid(String text) {
        try {
            return Cid.parse(text);
        } catch (CidFormatException e) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "malformed CID '" + text + "': " + e.getMessage());
        }
    }
}
