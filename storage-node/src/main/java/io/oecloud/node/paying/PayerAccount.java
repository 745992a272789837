package io.oecloud.node.paying;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.pb.ChainProto.TxBody;
import java.io.IOException;
import java.math.BigInteger;

/**
 * The account that pays: this node's (its peer ID), through the node's {@link ChainClient}.
 * An interface so the payer side names exactly what it uses of the chain client.
 */
public interface PayerAccount {
    /** The ledger refused a transaction (its words in the message): the account cannot do that. */
    final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        public Refused(String message) {
            super(message);
        }
    }

    /** The account's address (the node's peer ID). */
    String address();

    /** The balance as the chain holds it now. */
    BigInteger balance() throws IOException;

    /**
     * Signs and sends {@code tx} from the account and waits for its block.
     *
     * @return the height of the block that took it
     * @throws Refused when the ledger refused it
     * @throws IOException when no endpoint could be reached, the pool was full or no block took it in time
     */
    long submit(TxBody.Builder tx) throws IOException;

    /** The account of {@code client}'s key. */
    static PayerAccount of(ChainClient client) {
        return new PayerAccount() {
            @Override
            public String address() {
                return client.address();
            }

            @Override
            public BigInteger balance() throws IOException {
                return client.account().balance();
            }

            @Override
            public long submit(TxBody.Builder tx) throws IOException {
                try {
                    JsonNode answer = client.submit(tx);
                    return answer.path("height").asLong(-1);
                } catch (ChainClient.Refused e) {
                    if (e.status() == 422) { // the ledger said no; 503 and 504 say nothing about the account
                        throw new Refused(e.getMessage());
                    }
                    throw e;
                }
            }
        };
    }
}
