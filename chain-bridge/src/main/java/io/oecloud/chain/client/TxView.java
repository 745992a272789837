package io.oecloud.chain.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.Tx;
import io.oecloud.chain.pb.ChainProto.TxBody;
import java.math.BigInteger;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A transaction as people read it: sender address, nonce, fee, kind and the operation's fields
 * (amounts in base units as decimal strings, CIDs in their text form, keys in base64). For
 * {@code oe chain tx} and account histories; never used to decide anything.
 */
final class TxView {
    private TxView() {}

    static Map<String, Object> describe(byte[] txBytes) throws InvalidProtocolBufferException {
        Tx tx = Tx.parseFrom(txBytes);
        TxBody body = TxBody.parseFrom(tx.getBody());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chainId", body.getChainId());
        m.put("sender", body.getSender().size() == 32 ? Ledger.address(body.getSender().toByteArray()) : "(malformed)");
        m.put("nonce", body.getNonce());
        m.put("fee", new BigInteger(1, body.getFee().toByteArray()).toString());
        m.put("kind", body.getKindCase().name().toLowerCase(java.util.Locale.ROOT));
        for (Map.Entry<FieldDescriptor, Object> f : body.getAllFields().entrySet()) {
            if (f.getKey().getContainingOneof() != null && f.getValue() instanceof Message op) {
                for (Map.Entry<FieldDescriptor, Object> e : op.getAllFields().entrySet()) {
                    Object v = e.getValue();
                    if (v instanceof java.util.List<?> l) { // receipts, or addresses removed
                        java.util.List<Object> out = new java.util.ArrayList<>();
                        for (Object x : l) {
                            out.add(x instanceof Message r ? fields(r) : value(e.getKey().getName(), x));
                        }
                        m.put(e.getKey().getJsonName(), out);
                    } else {
                        m.put(e.getKey().getJsonName(), value(e.getKey().getName(), v));
                    }
                }
            }
        }
        return m;
    }

    /** A nested message (a receipt): its fields, the signature in base64. */
    private static Map<String, Object> fields(Message r) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<FieldDescriptor, Object> e : r.getAllFields().entrySet()) {
            m.put(e.getKey().getJsonName(), value(e.getKey().getName(), e.getValue()));
        }
        return m;
    }

    private static Object value(String name, Object v) {
        if (!(v instanceof ByteString b)) {
            return v;
        }
        return switch (name) {
            case "cid", "object", "cids" -> {
                try {
                    yield io.oecloud.proofs.Cid.fromBytes(b.toByteArray()).toString();
                } catch (IllegalArgumentException e) {
                    yield Base64.getEncoder().encodeToString(b.toByteArray());
                }
            }
            case "root" -> { // a name's root CID; CommitRoot's root is a 32-byte hash, shown as before
                try {
                    yield io.oecloud.proofs.Cid.fromBytes(b.toByteArray()).toString();
                } catch (IllegalArgumentException e) {
                    yield new BigInteger(1, b.toByteArray()).toString();
                }
            }
            case "validator_key", "signature" -> Base64.getEncoder().encodeToString(b.toByteArray());
            case "entries_root" -> java.util.HexFormat.of().formatHex(b.toByteArray());
            default -> new BigInteger(1, b.toByteArray()).toString(); // amounts
        };
    }
}
