package io.oecloud.chain.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.ledger.Names;
import io.oecloud.chain.ledger.StateTree;
import io.oecloud.chain.pb.ChainProto.StateProof;
import io.oecloud.http.HttpCaller;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Verified name lookups for programs that must not trust the node they ask (the CDN edge): a
 * name's record, or its absence, read from a state proof that a {@link LightClient} checks
 * against a header signed by more than 2/3 of the validators' power.
 *
 * <pre>{@code
 * try (CometRpc rpc = new CometRpc(superNodeRpc, 10_000)) {
 *     LightClient lc = new LightClient(LightClient.rpcSource(rpc, Duration.ofSeconds(20)), trustFile, chainId, pinnedHash);
 *     NameResolver names = new NameResolver(NameResolver.rpcProofs(rpc), lc);
 *     Optional<NameResolver.NameRecord> site = names.resolveName("my-site"); // empty: proven unregistered
 * }
 * }</pre>
 *
 * A proof is of the state after some block H, vouched for by header H + 1. A node could answer
 * with an old (but genuine) state, so a proof whose header is older than {@code maxAge} is
 * refused: a name moved to a new root cannot be held back longer than that. Not thread-safe
 * beyond what the light client is (its trust file is written on each verification): use one per
 * thread, or serialize calls.
 */
public final class NameResolver {
    /** How old the header that proves an answer may be by default. */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(10);

    /**
     * A name's proven record.
     *
     * @param name           the name
     * @param owner          its owner's address
     * @param root           the CIDv1 it points to
     * @param updatedHeight  the block of its last change (registration, update or transfer)
     * @param verifiedHeight the block whose state the proof is of (its app hash is in the signed header verifiedHeight + 1)
     */
    public record NameRecord(String name, String owner, Cid root, long updatedHeight, long verifiedHeight) {}

    /** Where proofs of {@code name/NAME} come from: a node that need not be trusted. */
    @FunctionalInterface
    public interface ProofSource {
        /** The state proof of {@code name}'s entry (present or absent). */
        StateProof prove(String name) throws IOException;
    }

    private final ProofSource proofs;
    private final LightClient light;
    private final Duration maxAge;
    private final Supplier<Instant> now;

    /** A resolver over {@code proofs}, checked by {@code light}, with {@link #DEFAULT_MAX_AGE}. */
    public NameResolver(ProofSource proofs, LightClient light) {
        this(proofs, light, DEFAULT_MAX_AGE, Instant::now);
    }

    /**
     * @param maxAge how old the header proving an answer may be (positive)
     * @param now    the clock that age is measured by (tests move it)
     */
    public NameResolver(ProofSource proofs, LightClient light, Duration maxAge, Supplier<Instant> now) {
        if (proofs == null || light == null || now == null) {
            throw new IllegalArgumentException("a name resolver needs a proof source, a light client and a clock");
        }
        if (maxAge == null || maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("maxAge must be positive, was " + maxAge);
        }
        this.proofs = proofs;
        this.light = light;
        this.maxAge = maxAge;
        this.now = now;
    }

    /** Proofs from a super-node's CometBFT RPC ({@code abci_query /name} with {@code prove}); the caller closes {@code rpc}. */
    public static ProofSource rpcProofs(CometRpc rpc) {
        return name -> {
            JsonNode r;
            try {
                r = rpc.queryProved("/name", name).join();
            } catch (java.util.concurrent.CompletionException e) {
                throw new IOException("the chain's RPC did not answer /name " + name + ": " + e.getCause().getMessage(), e.getCause());
            }
            return proof(r.at("/proofOps/ops/0"), r.path("log").asText(""));
        };
    }

    /** Proofs from a super-node's HTTP API ({@code GET /v1/chain/names/NAME?prove=true}); the caller closes {@code api}. */
    public static ProofSource apiProofs(HttpCaller api) {
        return name -> {
            HttpCaller.Answer a;
            try {
                a = api.get("/v1/chain/names/" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "?prove=true").join();
            } catch (java.util.concurrent.CompletionException e) {
                throw new IOException("the node did not answer the name " + name + ": " + e.getCause().getMessage(), e.getCause());
            }
            JsonNode doc;
            try {
                doc = a.json();
            } catch (java.io.UncheckedIOException e) {
                throw new IOException("the node's answer for the name " + name + " is not JSON (HTTP " + a.status() + ")");
            }
            String proof = doc.path("proof").asText("");
            if (proof.isEmpty()) {
                throw new IOException("the node's answer for the name " + name + " carries no proof (HTTP " + a.status() + "): "
                        + doc.path("error").asText(""));
            }
            return parse(proof);
        };
    }

    private static StateProof proof(JsonNode op, String log) throws IOException {
        if (!StateTree.PROOF_TYPE.equals(op.path("type").asText())) {
            throw new IOException("the chain's answer carries no " + StateTree.PROOF_TYPE + " proof" + (log.isEmpty() ? "" : ": " + log));
        }
        return parse(op.path("data").asText(""));
    }

    private static StateProof parse(String base64) throws IOException {
        try {
            return StateProof.parseFrom(Base64.getDecoder().decode(base64));
        } catch (IllegalArgumentException | com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IOException("the proof is not a state proof: " + e.getMessage());
        }
    }

    /**
     * The proven record of {@code name}, or empty when the chain proves it unregistered.
     *
     * @throws IllegalArgumentException when {@code name} is not a valid name ({@link Names#problem} says why)
     * @throws LightClient.VerificationException when the proof or the headers do not verify, or the proving header is older than maxAge
     * @throws IOException when the source or the light client's source cannot be read
     */
    public Optional<NameRecord> resolveName(String name) throws IOException, LightClient.VerificationException {
        String bad = Names.problem(name);
        if (bad != null) {
            throw new IllegalArgumentException(bad);
        }
        StateProof p = proofs.prove(name);
        LightClient.Proven proven;
        try {
            proven = light.verifyEntry(p, "name/" + name);
        } catch (LightClient.VerificationException | IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("could not verify the name " + name + ": " + e.getMessage(), e);
        }
        Instant signed = proven.header().time();
        if (signed.plus(maxAge).isBefore(now.get())) {
            throw new LightClient.VerificationException("the proof of " + name + " is of block " + p.getHeight() + ", whose next header ("
                    + signed + ") is older than " + maxAge + ": a node may be holding back a newer state");
        }
        if (proven.value() == null) {
            return Optional.empty();
        }
        Names.Record r;
        try {
            r = Names.Record.decode(proven.value());
        } catch (IllegalArgumentException e) {
            throw new LightClient.VerificationException("the proven entry of " + name + " is not a name record: " + e.getMessage());
        }
        return Optional.of(new NameRecord(name, r.owner(), r.root(), r.updatedHeight(), p.getHeight()));
    }
}
