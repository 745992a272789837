package io.oecloud.dht;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.dht.pb.Records;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** The record validators a node runs: public keys and OE Cloud's signed, sequenced records. */
public final class Validators {
    private Validators() {}

    /**
     * {@code /pk/<peer id multihash bytes>}: the value must be the public key protobuf whose peer
     * ID is the one in the key. All valid values are the same key, so the first is best.
     */
    public static RecordValidator publicKeys() {
        return new RecordValidator() {
            @Override
            public void validate(byte[] key, byte[] value) {
                byte[] id = Arrays.copyOfRange(key, 4, key.length);
                PeerId claimed;
                try {
                    claimed = PeerId.fromBytes(id);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("/pk/ key does not hold a peer ID: " + e.getMessage());
                }
                if (!PeerId.fromPublicKeyProto(value).equals(claimed)) {
                    throw new IllegalArgumentException("public key does not belong to " + claimed);
                }
            }

            @Override
            public int select(byte[] key, List<byte[]> values) {
                return 0;
            }
        };
    }

    /**
     * {@code /oe/<signer peer id, base58>/<name>}: the value is a {@link SignedRecord} signed by the
     * peer named in the key; the highest sequence number wins (ties: the smaller encoding, so every
     * node picks the same one). Unsigned or badly signed records are refused.
     */
    public static RecordValidator signedRecords() {
        return new RecordValidator() {
            @Override
            public void validate(byte[] key, byte[] value) {
                SignedRecord.verify(key, value);
            }

            @Override
            public int select(byte[] key, List<byte[]> values) {
                int best = 0;
                for (int i = 1; i < values.size(); i++) {
                    long a = SignedRecord.decode(values.get(i)).seq();
                    long b = SignedRecord.decode(values.get(best)).seq();
                    if (a > b || (a == b && Arrays.compareUnsigned(values.get(i), values.get(best)) < 0)) {
                        best = i;
                    }
                }
                return best;
            }
        };
    }

    /** Accepts anything; first wins. For namespaces of foreign test peers only. */
    public static RecordValidator permissive() {
        return new RecordValidator() {
            @Override
            public void validate(byte[] key, byte[] value) {}

            @Override
            public int select(byte[] key, List<byte[]> values) {
                return 0;
            }
        };
    }

    /**
     * A value for our {@code /oe/} namespace: the payload, a sequence number and the signer's
     * Ed25519 signature over {@code "oe-record:" + key + seq (8 bytes, big-endian) + value}
     * (protobuf {@code SignedRecord}, records.proto).
     */
    public record SignedRecord(byte[] value, long seq, byte[] signature) {
        private static final byte[] DOMAIN = "oe-record:".getBytes(StandardCharsets.US_ASCII);

        /** Signs {@code value} under {@code /oe/<our peer id>/<name>}; returns the key and value bytes. */
        public static byte[][] sign(Identity id, String name, byte[] value, long seq) {
            byte[] key = ("/oe/" + id.peerId() + "/" + name).getBytes(StandardCharsets.UTF_8);
            byte[] sig = id.sign(signedBytes(key, seq, value));
            return new byte[][] {key, encode(new SignedRecord(value, seq, sig))};
        }

        static byte[] signedBytes(byte[] key, long seq, byte[] value) {
            byte[] out = new byte[DOMAIN.length + key.length + 8 + value.length];
            System.arraycopy(DOMAIN, 0, out, 0, DOMAIN.length);
            System.arraycopy(key, 0, out, DOMAIN.length, key.length);
            for (int i = 0; i < 8; i++) {
                out[DOMAIN.length + key.length + i] = (byte) (seq >>> (56 - 8 * i));
            }
            System.arraycopy(value, 0, out, DOMAIN.length + key.length + 8, value.length);
            return out;
        }

        static byte[] encode(SignedRecord r) {
            return Records.SignedRecord.newBuilder()
                    .setValue(ByteString.copyFrom(r.value))
                    .setSeq(r.seq)
                    .setSignature(ByteString.copyFrom(r.signature))
                    .build().toByteArray();
        }

        static SignedRecord decode(byte[] bytes) {
            try {
                Records.SignedRecord m = Records.SignedRecord.parseFrom(bytes);
                if (m.getSignature().size() != 64) {
                    throw new IllegalArgumentException("unsigned (no 64-byte signature)");
                }
                return new SignedRecord(m.getValue().toByteArray(), m.getSeq(), m.getSignature().toByteArray());
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalArgumentException("malformed signed record: " + e.getMessage(), e);
            }
        }

        /**
         * Verifies a {@code /oe/} record against the signer named in its key and returns its payload.
         *
         * @throws IllegalArgumentException if the record is malformed or not signed by that peer
         */
        public static byte[] payload(byte[] key, byte[] value) {
            return verify(key, value).value();
        }

        /** Checks the record's signature against the signer named in the key. */
        static SignedRecord verify(byte[] key, byte[] value) {
            String k = new String(key, StandardCharsets.UTF_8);
            String[] parts = k.split("/", 4); // "", "oe", peer, name
            if (parts.length != 4 || parts[3].isEmpty()) {
                throw new IllegalArgumentException("key must be /oe/<peer id>/<name>, was " + k);
            }
            PeerId signer = PeerId.parse(parts[2]);
            byte[] pub = signer.ed25519PublicKey();
            if (pub == null) {
                throw new IllegalArgumentException("signer " + signer + " has no inline Ed25519 key");
            }
            SignedRecord r = decode(value);
            if (!Crypto.ed25519Verify(pub, signedBytes(key, r.seq, r.value), r.signature)) {
                throw new IllegalArgumentException("record signature does not verify for " + signer);
            }
            return r;
        }
    }
}
