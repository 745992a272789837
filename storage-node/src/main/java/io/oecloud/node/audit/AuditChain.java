package io.oecloud.node.audit;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.client.CometRpc;
import io.oecloud.chain.pb.ChainProto.TxBody;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** What the audits need of OEChain: the current window's committee and targets, and a way to send verdicts. */
public interface AuditChain extends AutoCloseable {
    /** The chain's {@code /audits} at its committed height. */
    Window window() throws IOException;

    /** Signs and sends {@code tx} as this node's account, waiting for its block. */
    void submit(TxBody.Builder tx) throws IOException;

    /** The chain's {@code /storage-node} record of {@code address} (its audit fields among them), or null when unregistered. */
    default JsonNode record(String address) throws IOException {
        return null;
    }

    @Override
    default void close() {}

    /** A node the committee may audit in the window: its address and the root it committed for the period. */
    record Target(String address, byte[] root, long count) {}

    /**
     * The window of the chain's committed height: its blocks, the block until which its verdicts are
     * accepted, its committee (empty before it is drawn or when no validator has a beacon key), the
     * audit parameters and the targets.
     */
    record Window(long height, long period, int window, long firstBlock, long lastBlock, long verdictsUntil, List<String> committee,
                  int auditTargets, long deadlineMillis, List<Target> targets) {
        public static Window fromJson(JsonNode j) {
            List<String> committee = new ArrayList<>();
            j.path("committee").forEach(c -> committee.add(c.asText()));
            List<Target> targets = new ArrayList<>();
            for (JsonNode t : j.path("targets")) {
                targets.add(new Target(t.path("address").asText(), HexFormat.of().parseHex(t.path("root").asText()), t.path("count").asLong()));
            }
            return new Window(j.path("height").asLong(), j.path("period").asLong(), j.path("window").asInt(), j.path("firstBlock").asLong(),
                    j.path("lastBlock").asLong(), j.path("verdictsUntil").asLong(), List.copyOf(committee), j.path("auditTargets").asInt(),
                    j.path("deadlineMillis").asLong(), List.copyOf(targets));
        }
    }

    /** Through CometBFT's RPC ({@code abci_query /audits}) and the node's {@link ChainClient}. */
    static AuditChain over(ChainClient client, List<InetSocketAddress> rpc) {
        List<CometRpc> rpcs = new ArrayList<>();
        for (InetSocketAddress a : rpc) {
            rpcs.add(new CometRpc(a, 10_000));
        }
        return new AuditChain() {
            @Override
            public Window window() throws IOException {
                RuntimeException last = null;
                for (CometRpc r : rpcs) {
                    try {
                        JsonNode j = r.query("/audits", "").join();
                        if (j == null) {
                            throw new IOException("the chain does not answer /audits (a ledger before audits?)");
                        }
                        return Window.fromJson(j);
                    } catch (RuntimeException e) {
                        last = e;
                    }
                }
                throw new IOException("could not read /audits from the chain: " + (last == null ? "no RPC address" : last.getMessage()), last);
            }

            @Override
            public void submit(TxBody.Builder tx) throws IOException {
                client.submit(tx);
            }

            @Override
            public JsonNode record(String address) throws IOException {
                RuntimeException last = null;
                for (CometRpc r : rpcs) {
                    try {
                        return r.query("/storage-node", address).join();
                    } catch (RuntimeException e) {
                        last = e;
                    }
                }
                throw new IOException("could not read /storage-node from the chain: " + (last == null ? "no RPC address" : last.getMessage()), last);
            }

            @Override
            public void close() {
                rpcs.forEach(CometRpc::close);
            }
        };
    }
}
