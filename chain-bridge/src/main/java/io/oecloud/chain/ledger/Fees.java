package io.oecloud.chain.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.wire.Uvarint;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a transaction must pay: {@code minimum + perByte × size}, where size is the length of the
 * signed transaction as sent (the {@code Tx} bytes, signature included). Both are genesis
 * parameters ({@code "minFee"} and {@code "feePerByte"} in {@code app_state}, base units).
 *
 * <p>Why both: a transaction costs every validator a signature check and a state write whatever
 * its size (the minimum), and bandwidth, block space and the mempool's memory in proportion to
 * its bytes (the per-byte part). With the minimum alone, a 60 KB transaction of padding cost the
 * same as a 100-byte transfer; now it costs about 400 times as much.
 *
 * @param minimum base units every transaction pays
 * @param perByte base units per byte of the signed transaction
 */
public record Fees(BigInteger minimum, BigInteger perByte) {
    /** The per-byte fee of a genesis that does not name one. */
    public static final BigInteger DEFAULT_PER_BYTE = BigInteger.valueOf(1000);

    public Fees {
        if (minimum == null || minimum.signum() < 0 || minimum.compareTo(Amounts.LIMIT) >= 0) {
            throw new IllegalArgumentException("minFee must be 0 to 2^128 - 1 base units, was " + minimum);
        }
        if (perByte == null || perByte.signum() < 0 || perByte.bitLength() > 64) {
            throw new IllegalArgumentException("feePerByte must be 0 to 2^64 - 1 base units, was " + perByte);
        }
    }

    /** {@code "minFee"} (default 0) and {@code "feePerByte"} (default {@link #DEFAULT_PER_BYTE}) of a genesis {@code app_state}. */
    public static Fees fromGenesis(JsonNode appState) {
        try {
            return new Fees(new BigInteger(appState.path("minFee").asText("0")),
                    appState.has("feePerByte") ? new BigInteger(appState.path("feePerByte").asText()) : DEFAULT_PER_BYTE);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("genesis minFee '" + appState.path("minFee").asText() + "' or feePerByte '"
                    + appState.path("feePerByte").asText() + "' is not a decimal number of base units");
        }
    }

    /** What a signed transaction of {@code txBytes} bytes must pay at least. */
    public BigInteger required(long txBytes) {
        return minimum.add(perByte.multiply(BigInteger.valueOf(txBytes)));
    }

    /**
     * Whether {@code fee} pays at least {@link #required}{@code (txBytes)}: the same answer,
     * without the two BigInteger allocations when the minimum, the rate and the fee each fit in
     * 63 bits (always, with genesis fees near 1,000 and transactions under 64 KiB). Every
     * transaction is priced at admission, at each recheck after a block, in the proposer's trial
     * and in FinalizeBlock, so at ~2,500 tx/s on four validators this runs ~40,000 times a second.
     */
    public boolean covers(BigInteger fee, long txBytes) {
        if (txBytes >= 0 && fee.bitLength() < 63 && minimum.bitLength() < 63 && perByte.bitLength() < 63) {
            long product = perByte.longValue() * txBytes;
            long need = minimum.longValue() + product;
            if (Math.multiplyHigh(perByte.longValue(), txBytes) == 0 && product >= 0 && need >= 0) { // no overflow
                return fee.longValue() >= need;
            }
        }
        return fee.compareTo(required(txBytes)) >= 0;
    }

    /** The length of the signed {@code Tx} holding {@code body}: field tags, lengths, body, 64-byte signature. */
    static int signedSize(int bodyBytes) {
        return 1 + Uvarint.size(bodyBytes) + bodyBytes + 1 + 1 + 64;
    }

    /**
     * Sets {@code body}'s fee to what its signed size requires (or keeps the fee already set when
     * that is higher: paying more per byte puts a transaction earlier in blocks), then signs it.
     * The fee's own bytes count, so the fee is raised until it covers the size it gives.
     */
    public byte[] sign(Identity key, TxBody.Builder body) {
        BigInteger asked = body.getFee().isEmpty() ? BigInteger.ZERO : new BigInteger(1, body.getFee().toByteArray());
        BigInteger fee = asked;
        for (int round = 0; round < 8; round++) {
            body.setFee(ByteString.copyFrom(Amounts.encode(fee)));
            BigInteger need = required(signedSize(body.build().getSerializedSize()));
            if (fee.compareTo(need) >= 0) {
                return Ledger.sign(key, body.build());
            }
            fee = need;
        }
        throw new IllegalStateException("the fee did not settle for its own size"); // each round adds at most a byte
    }

    /** As {@code /params} answers them: decimal strings of base units. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("minFee", minimum.toString());
        m.put("feePerByte", perByte.toString());
        return m;
    }
}
