package io.oecloud.chain.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;
import io.oecloud.chain.abci.CryptokeysProto.PublicKey;
import io.oecloud.chain.abci.TypesTypesProto.BlockID;
import io.oecloud.chain.abci.TypesTypesProto.PartSetHeader;
import io.oecloud.chain.abci.TypesTypesProto.SignedMsgType;
import io.oecloud.chain.abci.TypescanonicalProto.CanonicalBlockID;
import io.oecloud.chain.abci.TypescanonicalProto.CanonicalPartSetHeader;
import io.oecloud.chain.abci.TypescanonicalProto.CanonicalVote;
import io.oecloud.chain.abci.TypesvalidatorProto.SimpleValidator;
import io.oecloud.chain.abci.VersionTypesProto.Consensus;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.ledger.StateTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * A light client of OEChain: it trusts a header only when validators it already trusts signed
 * for it, so a user need not trust the node it asks. It checks a header by its hash (CometBFT's
 * Merkle tree over the header's fields), the validator set by its hash in the header, and the
 * commit's Ed25519 signatures over CometBFT's canonical vote bytes; more than 2/3 of the set's
 * power must have signed. Going forward it skips like CometBFT's light client: a later header is
 * accepted when more than 1/3 of the trusted set's power signed it too (at least one honest
 * validator vouches for it), and otherwise it bisects, never from a trusted header older than
 * the trusting period. The trusted header is kept in a file; the first one is the chain's height
 * 1 (or a chosen height) as first seen, unless pinned by its hash.
 */
public final class LightClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of().withUpperCase();
    /** How far back from the trusted header a lower height is followed by hash links. */
    private static final int MAX_BACKWARD = 1_000;

    /** Where headers, commits and validator sets come from: a node that need not be trusted. */
    public interface Source {
        /** CometBFT's /commit result at {@code height}: {"signed_header": {"header", "commit"}}. */
        JsonNode commit(long height) throws Exception;

        /** CometBFT's /validators result at {@code height} (all of them). */
        JsonNode validators(long height) throws Exception;
    }

    /** Thrown when something does not verify. */
    public static final class VerificationException extends Exception {
        private static final long serialVersionUID = 1L;

        VerificationException(String message) {
            super(message);
        }
    }

    public record Validator(String address, byte[] pubKey, long power) {}

    /** A header this client has verified, with the validator set that signed it. */
    public record Verified(String chainId, long height, byte[] hash, byte[] appHash, byte[] nextValidatorsHash, Instant time,
                           List<Validator> validators, long signedPower, long totalPower) {}

    /** The default trusting period: a trusted header older than this is not skipped from. */
    public static final java.time.Duration DEFAULT_TRUSTING_PERIOD = java.time.Duration.ofDays(14);

    private final Source source;
    private final Path trustFile;
    private final String chainId;
    private final long trustHeight;
    private final byte[] pinnedHash;
    private final java.time.Duration trustingPeriod;
    private final java.util.function.Supplier<Instant> now;

    /** Trusts height 1 (pinned by {@code pinnedHash} when given) with the default trusting period. */
    public LightClient(Source source, Path trustFile, String chainId, byte[] pinnedHash) {
        this(source, trustFile, chainId, 1, pinnedHash, DEFAULT_TRUSTING_PERIOD, Instant::now);
    }

    /**
     * @param trustFile      where the latest verified header is kept between runs
     * @param trustHeight    the header trusted first, when the file holds none
     * @param pinnedHash     that header's hash, or null to trust it as first seen
     * @param trustingPeriod how old a trusted header may be and still vouch for later ones: the
     *                       stake behind an older set may have unbonded and can no longer be
     *                       slashed for lying, so keep it well under the unbonding time
     */
    public LightClient(Source source, Path trustFile, String chainId, long trustHeight, byte[] pinnedHash,
                       java.time.Duration trustingPeriod, java.util.function.Supplier<Instant> now) {
        if (trustHeight < 1) {
            throw new IllegalArgumentException("the trusted height must be 1 or more, was " + trustHeight);
        }
        this.source = source;
        this.trustFile = trustFile;
        this.chainId = chainId;
        this.trustHeight = trustHeight;
        this.pinnedHash = pinnedHash;
        this.trustingPeriod = trustingPeriod;
        this.now = now;
    }

    /** Verifies the header at {@code height} from the trusted one, and trusts it from then on. */
    public Verified verify(long height) throws Exception {
        Verified trusted = load();
        if (trusted == null) {
            trusted = fetch(trustHeight).header();
            if (pinnedHash != null && !Arrays.equals(pinnedHash, trusted.hash())) {
                throw new VerificationException("the chain's header at height " + trustHeight + " is " + HEX.formatHex(trusted.hash())
                        + ", not the pinned " + HEX.formatHex(pinnedHash));
            }
            save(trusted);
        }
        if (height == trusted.height()) {
            Verified v = fetch(height).header();
            if (!Arrays.equals(v.hash(), trusted.hash())) {
                throw new VerificationException("header " + height + " differs from the one trusted before (a fork)");
            }
            return v;
        }
        if (height < trusted.height()) {
            return backward(trusted, height);
        }
        if (trusted.time().plus(trustingPeriod).isBefore(now.get())) {
            throw new VerificationException("the trusted header (height " + trusted.height() + ", " + trusted.time()
                    + ") is older than the trusting period of " + trustingPeriod + ": the stake that signed it may have left."
                    + " Pin a recent header you have checked elsewhere (--trust-height and --trust-hash) and remove " + trustFile);
        }
        Verified v = forward(trusted, height, 0);
        save(v);
        return v;
    }

    private Verified forward(Verified trusted, long height, int depth) throws Exception {
        if (depth > 64) {
            throw new VerificationException("bisection from " + trusted.height() + " to " + height + " did not converge");
        }
        Fetched f = fetch(height);
        Verified v = f.header();
        if (v.time().isBefore(trusted.time())) {
            throw new VerificationException("header " + height + " is older than the trusted header " + trusted.height());
        }
        if (height == trusted.height() + 1) {
            if (!Arrays.equals(trusted.nextValidatorsHash(), validatorsHash(v.validators()))) {
                throw new VerificationException("header " + height + " is signed by a set other than the one the trusted header named");
            }
            return v;
        }
        long vouched = tally(f.commit(), trusted.validators(), v.hash(), height);
        if (3 * vouched > total(trusted.validators())) {
            return v; // more than 1/3 of the trusted power vouches for it
        }
        long mid = trusted.height() + (height - trusted.height()) / 2;
        return forward(forward(trusted, mid, depth + 1), height, depth + 1);
    }

    /** A height below the trusted one: followed back through the headers' last-block hashes. */
    private Verified backward(Verified trusted, long height) throws Exception {
        if (trusted.height() - height > MAX_BACKWARD) {
            throw new VerificationException("height " + height + " is more than " + MAX_BACKWARD + " blocks below the trusted "
                    + trusted.height());
        }
        byte[] expected = trusted.hash();
        Verified v = null;
        for (long h = trusted.height(); h >= height; h--) {
            JsonNode header = source.commit(h).at("/signed_header/header");
            byte[] hash = headerHash(header);
            if (!Arrays.equals(hash, expected)) {
                throw new VerificationException("header " + h + " does not hash to what header " + (h + 1) + " links to");
            }
            expected = hex(header.at("/last_block_id/hash").asText());
            if (h == height) {
                v = new Verified(header.path("chain_id").asText(), h, hash, hex(header.path("app_hash").asText()),
                        hex(header.path("next_validators_hash").asText()), Instant.parse(header.path("time").asText()), List.of(), 0, 0);
            }
        }
        return v;
    }

    /**
     * The header at {@code height} with its own validator set, checked for consistency: the
     * header hashes to the commit's block ID, the set hashes to the header's validators_hash, and
     * more than 2/3 of that set's power signed. (Who that set is must still be vouched for.)
     */
    /** A header checked for consistency, with the commit document it came in (asked for once). */
    private record Fetched(Verified header, JsonNode commit) {}

    Fetched fetch(long height) throws Exception {
        JsonNode commitDoc = source.commit(height);
        JsonNode sh = commitDoc.path("signed_header");
        JsonNode header = sh.path("header");
        JsonNode commit = sh.path("commit");
        if (!chainId.equals(header.path("chain_id").asText())) {
            throw new VerificationException("header " + height + " is of chain '" + header.path("chain_id").asText() + "', not '" + chainId + "'");
        }
        if (header.path("height").asLong() != height || commit.path("height").asLong() != height) {
            throw new VerificationException("asked for height " + height + ", got header " + header.path("height").asText());
        }
        byte[] hash = headerHash(header);
        if (!Arrays.equals(hash, hex(commit.at("/block_id/hash").asText()))) {
            throw new VerificationException("header " + height + " does not hash to the block its commit signs");
        }
        List<Validator> set = validators(source.validators(height));
        if (!Arrays.equals(validatorsHash(set), hex(header.path("validators_hash").asText()))) {
            throw new VerificationException("the validator set given for height " + height + " is not the one its header names");
        }
        long signed = tally(commitDoc, set, hash, height);
        long total = total(set);
        if (3 * signed <= 2 * total) {
            throw new VerificationException("header " + height + " is signed by " + signed + " of " + total
                    + " voting power, not more than 2/3");
        }
        return new Fetched(new Verified(chainId, height, hash, hex(header.path("app_hash").asText()),
                hex(header.path("next_validators_hash").asText()), Instant.parse(header.path("time").asText()), set, signed, total), commitDoc);
    }

    /** The power of {@code set}'s members whose COMMIT signatures in {@code commitDoc} verify; a bad one fails all. */
    static long tally(JsonNode commitDoc, List<Validator> set, byte[] blockHash, long height) throws VerificationException {
        JsonNode commit = commitDoc.at("/signed_header/commit");
        String chain = commitDoc.at("/signed_header/header/chain_id").asText();
        JsonNode bid = commit.path("block_id");
        if (!Arrays.equals(blockHash, hex(bid.path("hash").asText()))) {
            throw new VerificationException("the commit at " + height + " is for another block");
        }
        long round = commit.path("round").asLong();
        java.util.Map<String, Validator> byAddress = new java.util.HashMap<>();
        for (Validator v : set) {
            byAddress.put(v.address(), v);
        }
        Set<String> counted = new HashSet<>();
        long power = 0;
        for (JsonNode sig : commit.path("signatures")) {
            if (sig.path("block_id_flag").asInt() != 2) {
                continue; // absent or nil: not a vote for this block
            }
            String addr = sig.path("validator_address").asText();
            Validator v = byAddress.get(addr);
            if (v == null || !counted.add(addr)) {
                continue;
            }
            Instant ts = Instant.parse(sig.path("timestamp").asText());
            byte[] msg = voteSignBytes(chain, height, round, blockHash, bid.at("/parts/total").asInt(), hex(bid.at("/parts/hash").asText()), ts);
            byte[] signature = Base64.getDecoder().decode(sig.path("signature").asText());
            if (signature.length != 64 || !Ed25519.verify(signature, 0, v.pubKey(), 0, msg, 0, msg.length)) {
                throw new VerificationException("the signature of validator " + addr + " on block " + height + " does not verify");
            }
            power += v.power();
        }
        return power;
    }

    /** CometBFT's sign bytes of a precommit: the length-delimited CanonicalVote. */
    static byte[] voteSignBytes(String chainId, long height, long round, byte[] blockHash, int partsTotal, byte[] partsHash, Instant ts) {
        CanonicalVote v = CanonicalVote.newBuilder().setType(SignedMsgType.SIGNED_MSG_TYPE_PRECOMMIT).setHeight(height).setRound(round)
                .setBlockId(CanonicalBlockID.newBuilder().setHash(ByteString.copyFrom(blockHash))
                        .setPartSetHeader(CanonicalPartSetHeader.newBuilder().setTotal(partsTotal).setHash(ByteString.copyFrom(partsHash))))
                .setTimestamp(timestamp(ts)).setChainId(chainId).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            v.writeDelimitedTo(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    /** CometBFT's header hash: its Merkle tree over the 14 fields, each in its proto encoding. */
    static byte[] headerHash(JsonNode h) {
        JsonNode lb = h.path("last_block_id");
        List<byte[]> fields = List.of(
                Consensus.newBuilder().setBlock(h.at("/version/block").asLong()).setApp(h.at("/version/app").asLong()).build().toByteArray(),
                cdc(h.path("chain_id").asText()),
                h.path("height").asLong() == 0 ? new byte[0] : Int64Value.of(h.path("height").asLong()).toByteArray(),
                timestamp(Instant.parse(h.path("time").asText())).toByteArray(),
                BlockID.newBuilder().setHash(ByteString.copyFrom(hex(lb.path("hash").asText())))
                        .setPartSetHeader(PartSetHeader.newBuilder().setTotal(lb.at("/parts/total").asInt())
                                .setHash(ByteString.copyFrom(hex(lb.at("/parts/hash").asText())))).build().toByteArray(),
                cdcHex(h.path("last_commit_hash").asText()),
                cdcHex(h.path("data_hash").asText()),
                cdcHex(h.path("validators_hash").asText()),
                cdcHex(h.path("next_validators_hash").asText()),
                cdcHex(h.path("consensus_hash").asText()),
                cdcHex(h.path("app_hash").asText()),
                cdcHex(h.path("last_results_hash").asText()),
                cdcHex(h.path("evidence_hash").asText()),
                cdcHex(h.path("proposer_address").asText()));
        return merkle(fields);
    }

    /** CometBFT's validator set hash: its Merkle tree over SimpleValidator{pub_key, power}, in set order. */
    static byte[] validatorsHash(List<Validator> set) {
        List<byte[]> items = new ArrayList<>();
        for (Validator v : set) {
            items.add(SimpleValidator.newBuilder().setPubKey(PublicKey.newBuilder().setEd25519(ByteString.copyFrom(v.pubKey())))
                    .setVotingPower(v.power()).build().toByteArray());
        }
        return merkle(items);
    }

    /** A /validators result as a set in CometBFT's order: power descending, then address. */
    static List<Validator> validators(JsonNode doc) throws VerificationException {
        List<Validator> l = new ArrayList<>();
        for (JsonNode v : doc.path("validators")) {
            if (!v.at("/pub_key/type").asText().equals("tendermint/PubKeyEd25519")) {
                throw new VerificationException("validator " + v.path("address").asText() + " has a key of type " + v.at("/pub_key/type").asText());
            }
            byte[] key = Base64.getDecoder().decode(v.at("/pub_key/value").asText());
            // the address is derived, never taken from the node
            l.add(new Validator(LedgerState.consensusAddress(key), key, v.path("voting_power").asLong()));
        }
        if (l.size() != doc.path("total").asInt(l.size())) {
            throw new VerificationException("the validator set is incomplete (" + l.size() + " of " + doc.path("total").asInt() + ")");
        }
        l.sort((a, b) -> a.power() != b.power() ? Long.compare(b.power(), a.power()) : a.address().compareTo(b.address()));
        return l;
    }

    private static long total(List<Validator> set) {
        long t = 0;
        for (Validator v : set) {
            t += v.power();
        }
        return t;
    }

    /** RFC 6962's tree as CometBFT builds it: split at the largest power of two below n. */
    static byte[] merkle(List<byte[]> items) {
        if (items.isEmpty()) {
            return sha256(new byte[0]);
        }
        if (items.size() == 1) {
            return sha256(new byte[] {0}, items.get(0));
        }
        int k = Integer.highestOneBit(items.size() - 1);
        return sha256(new byte[] {1}, merkle(items.subList(0, k)), merkle(items.subList(k, items.size())));
    }

    private static byte[] sha256(byte[]... parts) {
        MessageDigest d = Ledger.sha256();
        for (byte[] p : parts) {
            d.update(p);
        }
        return d.digest();
    }

    private static byte[] cdc(String s) {
        return s.isEmpty() ? new byte[0] : StringValue.of(s).toByteArray();
    }

    private static byte[] cdcHex(String hex) {
        byte[] b = hex(hex);
        return b.length == 0 ? new byte[0] : BytesValue.of(ByteString.copyFrom(b)).toByteArray();
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    static byte[] hex(String s) {
        return s == null || s.isEmpty() ? new byte[0] : HEX.parseHex(s);
    }

    private Verified load() throws IOException {
        if (!Files.exists(trustFile)) {
            return null;
        }
        JsonNode d = JSON.readTree(trustFile.toFile());
        if (!chainId.equals(d.path("chainId").asText())) {
            return null;
        }
        List<Validator> set = new ArrayList<>();
        for (JsonNode v : d.path("validators")) {
            set.add(new Validator(v.path("address").asText(), Base64.getDecoder().decode(v.path("pubKey").asText()), v.path("power").asLong()));
        }
        return new Verified(chainId, d.path("height").asLong(), hex(d.path("hash").asText()), hex(d.path("appHash").asText()),
                hex(d.path("nextValidatorsHash").asText()), Instant.parse(d.path("time").asText()), set, 0, total(set));
    }

    private void save(Verified v) throws IOException {
        ObjectNode d = JSON.createObjectNode().put("chainId", v.chainId()).put("height", v.height()).put("hash", HEX.formatHex(v.hash()))
                .put("appHash", HEX.formatHex(v.appHash())).put("nextValidatorsHash", HEX.formatHex(v.nextValidatorsHash()))
                .put("time", v.time().toString());
        ArrayNode vs = d.putArray("validators");
        for (Validator x : v.validators()) {
            vs.addObject().put("address", x.address()).put("pubKey", Base64.getEncoder().encodeToString(x.pubKey())).put("power", x.power());
        }
        Files.createDirectories(trustFile.toAbsolutePath().getParent());
        Path tmp = trustFile.resolveSibling(trustFile.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(d));
        Files.move(tmp, trustFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * A super-node's CometBFT RPC as a source: {@code /commit} and {@code /validators}, waiting up
     * to {@code wait} for a height the chain has not reached yet (a proof of the state after block
     * H needs header H + 1, which comes with the next block). The caller keeps {@code rpc} and closes it.
     */
    public static Source rpcSource(CometRpc rpc, java.time.Duration wait) {
        return new Source() {
            @Override
            public JsonNode commit(long height) throws Exception {
                awaitHeight(height, wait, () -> join(rpc.get("/status")).at("/result/sync_info/latest_block_height").asLong());
                return result(join(rpc.get("/commit?height=" + height)), "commit " + height);
            }

            @Override
            public JsonNode validators(long height) throws Exception {
                return result(join(rpc.get("/validators?height=" + height + "&per_page=100")), "validators " + height);
            }
        };
    }

    /**
     * A super-node's HTTP API as a source: {@code GET /v1/chain/light/commit/H} and
     * {@code /v1/chain/light/validators/H}, waiting up to {@code wait} for a height the chain has not
     * reached yet. The caller keeps {@code api} and closes it.
     */
    public static Source apiSource(io.oecloud.http.HttpCaller api, java.time.Duration wait) {
        return new Source() {
            @Override
            public JsonNode commit(long height) throws Exception {
                awaitHeight(height, wait, () -> ok(join(api.get("/v1/chain/status")), "status").path("height").asLong());
                return ok(join(api.get("/v1/chain/light/commit/" + height)), "commit " + height);
            }

            @Override
            public JsonNode validators(long height) throws Exception {
                return ok(join(api.get("/v1/chain/light/validators/" + height)), "validators " + height);
            }
        };
    }

    private interface HeightNow {
        long get() throws Exception;
    }

    private static void awaitHeight(long height, java.time.Duration wait, HeightNow now) throws Exception {
        long end = System.nanoTime() + wait.toNanos();
        while (now.get() < height) {
            if (System.nanoTime() > end) {
                throw new java.io.IOException("the chain did not reach height " + height + " within " + wait);
            }
            Thread.sleep(200); // the next block comes within a commit timeout
        }
    }

    private static <T> T join(java.util.concurrent.CompletableFuture<T> f) throws java.io.IOException {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw c instanceof java.io.IOException io ? io : new java.io.IOException(c.getMessage(), c);
        }
    }

    private static JsonNode result(JsonNode r, String what) throws java.io.IOException {
        if (r.has("error")) {
            throw new java.io.IOException("the chain's RPC refused " + what + ": " + r.at("/error/data").asText(r.at("/error/message").asText()));
        }
        return r.path("result");
    }

    private static JsonNode ok(io.oecloud.http.HttpCaller.Answer a, String what) throws java.io.IOException {
        JsonNode doc = a.json();
        if (a.status() / 100 != 2) {
            throw new java.io.IOException("the node refused " + what + " (HTTP " + a.status() + "): " + doc.path("error").asText(""));
        }
        return doc;
    }

    /** A state entry's value (null when proven absent) and the verified header whose app hash proves it. */
    public record Proven(byte[] value, Verified header) {}

    /**
     * The value of {@code key} in the state a query answered from, checked against the app hash
     * of the header after it (verified by this client).
     */
    public Proven verifyEntry(io.oecloud.chain.pb.ChainProto.StateProof proof, String key) throws Exception {
        Verified h = verify(proof.getHeight() + 1);
        try {
            return new Proven(StateTree.verify(proof, key, h.appHash()), h);
        } catch (StateTree.ProofException e) {
            throw new VerificationException(e.getMessage() + " of block " + h.height());
        }
    }
}
