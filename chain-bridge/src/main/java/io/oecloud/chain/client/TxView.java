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
                    m.put(e.getKey().getJsonName(), value(e.getKey().getName(), e.getValue()));
                }
            }
        }
        return m;
    }

    private static Object value(String name, Object v) {
        if (!(v instanceof ByteString b)) {
            return v;
        }
        return switch (name) {
            case "cid" -> {
                try {
                    yield io.oecloud.proofs.Cid.fromBytes(b.toByteArray()).toString();
                } catch (IllegalArgumentException e) {
                    yield Base64.getEncoder().encodeToString(b.toByteArray());
                }
            }
            case "validator_key" -> Base64.getEncoder().encodeToString(b.toByteArray());
            default -> new BigInteger(1, b.toByteArray()).toString(); // amounts
        };
    }
}
