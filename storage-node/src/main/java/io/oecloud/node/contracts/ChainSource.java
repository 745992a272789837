package io.oecloud.node.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/**
 * The chain's queries as the holder side reads them ({@code abci_query} answers, decoded JSON),
 * the same small shape {@code ChainRecords} reads through: tests give a fake, a node its
 * super-nodes' RPC.
 */
@FunctionalInterface
public interface ChainSource {
    /**
     * @return the answer's value, or null when the chain answered that there is none (an absent
     *     account or contract)
     * @throws IOException when no super-node answered
     */
    JsonNode query(String path, String data) throws IOException;
}
