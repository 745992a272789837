package io.oecloud.chain.node;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.handler.codec.http.HttpHeaders;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.TxSignatures;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Who may gossip transactions to this super-node, and how a batch proves it. The gossip endpoint
 * ({@code POST /v1/chain/mempool}) takes batches of up to 4 MiB whose every transaction costs a
 * signature check: open to anyone, one 7 MB batch of bad signatures cost a super-node 7.3 s of
 * CPU. Now only known super-nodes may send one, and the receiver knows who sent it from four
 * headers, before it reads the body:
 *
 * <pre>
 * OE-Gossip-From:      the sender's peer ID (its node key: Ed25519, the peer ID inlines it)
 * OE-Gossip-Time:      milliseconds since 1970 when the batch was signed
 * OE-Gossip-Nonce:     16 random bytes, hex
 * OE-Gossip-Signature: base64 Ed25519 by the sender over
 *     "oechain/gossip/v1" 0x00 chainId 0x00 from 0x00 to 0x00 time(8 bytes, big-endian) nonce(16) SHA-256(body)
 * </pre>
 *
 * where {@code to} is the receiver's peer ID (a batch signed for one super-node is refused by the
 * others). Known: the peer IDs of the configured gossip peers ({@code mempool.json}) and the
 * operators of the committed validator set (a super-node elected later gossips without a
 * configuration change). The time must be within {@link #WINDOW} of the receiver's clock, and a
 * signature is accepted once: signatures seen within the window are remembered (at most
 * {@link #REMEMBERED}; the entry's age, not the count, ends it in practice: known super-nodes send
 * one batch at a time each). Headers are checked before the body is read; the signature, over
 * the body's hash, once the body is in and before any transaction in it is parsed. Signatures
 * follow the transactions' rule ({@link TxSignatures}).
 */
final class GossipAuth {
    static final String FROM = "OE-Gossip-From";
    static final String TIME = "OE-Gossip-Time";
    static final String NONCE = "OE-Gossip-Nonce";
    static final String SIGNATURE = "OE-Gossip-Signature";
    static final byte[] DOMAIN = "oechain/gossip/v1".getBytes(StandardCharsets.US_ASCII);
    /** How far a batch's time may be from the receiver's clock, either way. */
    static final Duration WINDOW = Duration.ofSeconds(30);
    static final int REMEMBERED = 100_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String self;
    private final Set<String> configured;
    private final Supplier<Set<String>> validators;
    private final Supplier<String> chainId;
    private final LongSupplier clock;
    private final Cache<ByteBuffer, Boolean> seen;

    /**
     * @param self this node's peer ID (the receiver every batch must be signed for)
     * @param configured the configured gossip peers' peer IDs
     * @param validators the committed validator set's operators, read per request
     * @param chainId the chain's ID (null before genesis: nothing is accepted then)
     * @param clock milliseconds since 1970 (tests move it)
     */
    GossipAuth(String self, Set<String> configured, Supplier<Set<String>> validators, Supplier<String> chainId, LongSupplier clock) {
        this.self = self;
        this.configured = Set.copyOf(configured);
        this.validators = validators;
        this.chainId = chainId;
        this.clock = clock;
        this.seen = Caffeine.newBuilder().maximumSize(REMEMBERED).expireAfterWrite(WINDOW.multipliedBy(2)).build();
    }

    /** A refusal: the HTTP status and what was wrong, in words. */
    record Refusal(int status, String reason) {
    }

    /** What the headers claimed, to be checked against the body. */
    record Claim(String from, byte[] key, long time, byte[] nonce, byte[] signature) {
    }

    /** Either a claim whose sender is known and whose time is current, or a refusal. */
    record Verdict(Claim claim, Refusal refusal) {
    }

    /** The checks that need only the headers: the sender is a known super-node and the time is current. */
    Verdict headers(HttpHeaders h) {
        String from = h.get(FROM);
        String time = h.get(TIME);
        String nonce = h.get(NONCE);
        String sig = h.get(SIGNATURE);
        if (from == null || time == null || nonce == null || sig == null) {
            return refuse(401, "gossip is accepted only from known super-nodes, signed: headers " + FROM + ", " + TIME + ", "
                    + NONCE + " and " + SIGNATURE + " are required");
        }
        if (!configured.contains(from) && !validators.get().contains(from)) {
            return refuse(403, "'" + clip(from) + "' is not a known super-node (neither a configured gossip peer nor a current"
                    + " validator's operator)");
        }
        byte[] key;
        try {
            key = PeerId.parse(from).ed25519PublicKey();
        } catch (IllegalArgumentException e) {
            key = null;
        }
        if (key == null) {
            return refuse(403, "'" + clip(from) + "' does not hold an Ed25519 key");
        }
        long t;
        byte[] n;
        byte[] s;
        try {
            t = Long.parseLong(time);
            n = HexFormat.of().parseHex(nonce);
            s = Base64.getDecoder().decode(sig);
        } catch (IllegalArgumentException e) {
            return refuse(401, "gossip headers malformed: " + TIME + " is decimal milliseconds, " + NONCE + " 32 hex digits, "
                    + SIGNATURE + " base64 of 64 bytes");
        }
        if (n.length != 16 || s.length != 64) {
            return refuse(401, NONCE + " must be 16 bytes and " + SIGNATURE + " 64 bytes (were " + n.length + " and " + s.length + ")");
        }
        long skew = t - clock.getAsLong();
        if (Math.abs(skew) > WINDOW.toMillis()) {
            return refuse(401, "the batch was signed at " + t + ", " + skew / 1000 + " s from this node's clock (at most "
                    + WINDOW.toSeconds() + " s either way)");
        }
        if (chainId.get() == null) {
            return refuse(503, "this node has no genesis yet");
        }
        return new Verdict(new Claim(from, key, t, n, s), null);
    }

    /** The check once the body is in: the signature covers it, for this node, and was not seen before. Null when accepted. */
    Refusal body(Claim c, byte[] body) {
        byte[] msg = message(chainId.get(), c.from(), self, c.time(), c.nonce(), sha256(body));
        if (!TxSignatures.verify(c.signature(), c.key(), msg)) {
            return new Refusal(401, "the gossip signature does not verify for " + c.from() + " (signed for another node or chain,"
                    + " or the body changed)");
        }
        if (seen.asMap().putIfAbsent(ByteBuffer.wrap(c.signature()), Boolean.TRUE) != null) {
            return new Refusal(401, "this gossip batch was received before (a replay)");
        }
        return null;
    }

    /** Signs {@code body} for {@code to} into the request's headers. */
    static void sign(HttpHeaders h, Identity key, String chainId, String to, byte[] bodySha256, long time) {
        byte[] nonce = new byte[16];
        RANDOM.nextBytes(nonce);
        String from = key.peerId().toString();
        byte[] sig = key.sign(message(chainId, from, to, time, nonce, bodySha256));
        h.set(FROM, from).set(TIME, Long.toString(time)).set(NONCE, HexFormat.of().formatHex(nonce))
                .set(SIGNATURE, Base64.getEncoder().encodeToString(sig));
    }

    static byte[] message(String chainId, String from, String to, long time, byte[] nonce, byte[] bodySha256) {
        byte[] c = chainId.getBytes(StandardCharsets.UTF_8);
        byte[] f = from.getBytes(StandardCharsets.UTF_8);
        byte[] t = to.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(DOMAIN.length + 4 + c.length + f.length + t.length + 8 + nonce.length + bodySha256.length)
                .put(DOMAIN).put((byte) 0).put(c).put((byte) 0).put(f).put((byte) 0).put(t).put((byte) 0).putLong(time).put(nonce)
                .put(bodySha256).array();
    }

    static byte[] sha256(byte[] body) {
        return Ledger.sha256().digest(body);
    }

    private static Verdict refuse(int status, String reason) {
        return new Verdict(null, new Refusal(status, reason));
    }

    private static String clip(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    /** Whether {@code peerId} is the text form of an Ed25519 peer ID (for configuration checks). */
    static boolean isEd25519PeerId(String peerId) {
        try {
            return PeerId.parse(peerId).ed25519PublicKey() != null;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
