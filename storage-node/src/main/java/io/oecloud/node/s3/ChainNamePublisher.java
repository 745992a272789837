package io.oecloud.node.s3;

import com.google.protobuf.ByteString;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.math.BigInteger;

/**
 * Publishes namespace snapshots on OEChain's name registry: the name is registered to the
 * namespace key's own account (so whoever holds that key, on any node, can move it) and updated to
 * each snapshot. The namespace account pays the registration and fees; when it holds less than
 * {@link #LOW}, the node's account sends it {@link #TOP_UP} first.
 */
public final class ChainNamePublisher implements S3Snapshots.Publisher {
    static final BigInteger LOW = Amounts.PASS.multiply(BigInteger.TWO);
    static final BigInteger TOP_UP = Amounts.PASS.multiply(BigInteger.valueOf(5));

    private final ChainClient node;
    private final ChainClient namespace;
    private boolean registered;

    /** @param node the node's client (its account funds the namespace's); {@code endpoints}: the chain the node uses */
    public ChainNamePublisher(ChainClient node, ChainClient.Endpoints endpoints, Identity namespaceKey, long deadlineMillis) {
        this.node = node;
        this.namespace = new ChainClient(endpoints, namespaceKey, deadlineMillis);
    }

    @Override
    public synchronized void publish(String name, Cid snapshot) throws IOException {
        if (namespace.account().balance().compareTo(LOW) < 0) {
            node.submit(ChainProto.TxBody.newBuilder().setTransfer(ChainProto.Transfer.newBuilder().setTo(namespace.address())
                    .setAmount(ByteString.copyFrom(Amounts.encode(TOP_UP)))));
        }
        if (!registered) {
            try {
                namespace.registerName(name, snapshot);
                registered = true;
                return;
            } catch (ChainClient.Refused e) {
                if (e.code() != Ledger.Code.NAME_TAKEN.value()) {
                    throw e;
                }
                registered = true; // ours since an earlier run (another owner's would refuse the update below)
            }
        }
        namespace.updateName(name, snapshot);
    }
}
