package io.oecloud.node.s3;

import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.node.paying.FundedAccount;
import io.oecloud.proofs.Cid;
import java.io.IOException;

/**
 * Publishes namespace snapshots on OEChain's name registry: the name is registered to the
 * namespace key's own account (so whoever holds that key, on any node, can move it) and updated to
 * each snapshot. The namespace account pays the registration and fees; it is topped up first when
 * under its floor ({@link FundedAccount}: the node's account pays).
 */
public final class ChainNamePublisher implements S3Snapshots.Publisher {
    private final ChainClient namespace;
    private final FundedAccount funds;
    private boolean registered;

    /**
     * @param namespace the namespace key's client (its account owns the name)
     * @param funds that account, kept funded by the node's (or by the operator: a floor of 0)
     */
    public ChainNamePublisher(ChainClient namespace, FundedAccount funds) {
        if (!namespace.address().equals(funds.address())) {
            throw new IllegalArgumentException("the name's account " + namespace.address() + " is not the funded one " + funds.address());
        }
        this.namespace = namespace;
        this.funds = funds;
    }

    @Override
    public synchronized void publish(String name, Cid snapshot) throws IOException {
        funds.topUp();
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
