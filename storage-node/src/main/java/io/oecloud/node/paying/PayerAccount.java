package io.oecloud.node.paying;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.TxBody;
import java.io.IOException;
import java.math.BigInteger;

/**
 * The account that pays: this node's (its peer ID), through the node's {@link ChainClient}.
 * An interface so the payer side names exactly what it uses of the chain client.
 */
public interface PayerAccount {
    /**
     * The ledger refused a transaction (its words in the message): the account cannot do that.
     * {@link #code} says why in a form a caller can act on (the ledger's {@link Ledger.Code}).
     */
    final class Refused extends IOException {
        private static final long serialVersionUID = 1L;
        private final int code;

        /** A refusal whose ledger code is not known. */
        public Refused(String message) {
            this(-1, message);
        }

        /** @param code the ledger's code ({@link Ledger.Code#value()}), -1 when not known */
        public Refused(int code, String message) {
            super(message);
            this.code = code;
        }

        /** The ledger's code ({@link Ledger.Code#value()}), -1 when not known. */
        public int code() {
            return code;
        }

        /** Whether the ledger refused it with {@code c}. */
        public boolean is(Ledger.Code c) {
            return code == c.value();
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

    /**
     * Signs and sends {@code tx} from the account; answered once the chain's mempool admitted it
     * (its nonce, balance and rules checked against the committed state and what was admitted
     * before it), not when a block takes it.
     *
     * @return the transaction's hash (hex), or "" when this account does not know it
     * @throws Refused when the ledger refused it
     */
    default String submitAdmitted(TxBody.Builder tx) throws IOException {
        submit(tx);
        return "";
    }

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
                    throw refusal(e);
                }
            }

            @Override
            public String submitAdmitted(TxBody.Builder tx) throws IOException {
                try {
                    return client.submitAdmitted(tx).path("hash").asText("");
                } catch (ChainClient.Refused e) {
                    throw refusal(e);
                }
            }

            private IOException refusal(ChainClient.Refused e) {
                // the ledger said no; 503 and 504 say nothing about the account
                return e.status() == 422 ? new Refused(e.code(), e.getMessage()) : e;
            }
        };
    }
}
