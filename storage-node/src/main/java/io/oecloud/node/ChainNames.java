package io.oecloud.node;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.client.CometRpc;
import io.oecloud.chain.client.LightClient;
import io.oecloud.edge.EdgeException;
import io.oecloud.edge.NameResolver;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * OEChain's name registry as an edge's {@link NameResolver}: each answer is a state proof from a
 * super-node's RPC, checked by a light client against a header signed by more than two thirds of
 * the validators' power, so the super-node asked need not be trusted. The light client keeps its
 * latest verified header in {@code DATA_DIR/light/CHAIN.json} and rewrites it at each check, so
 * checks are made one at a time (the edge asks again only every few seconds per name).
 */
public final class ChainNames implements NameResolver, AutoCloseable {
    private final CometRpc rpc;
    private final io.oecloud.chain.client.NameResolver names;

    private ChainNames(CometRpc rpc, io.oecloud.chain.client.NameResolver names) {
        this.rpc = rpc;
        this.names = names;
    }

    /**
     * Reads names through the CometBFT RPC at {@code rpcAddress}, trusting the chain's first header
     * as first seen unless {@code trustHash} (hex) pins it.
     *
     * @throws IOException when the RPC does not answer its status (the chain's ID is read from it)
     */
    public static ChainNames open(InetSocketAddress rpcAddress, Path dataDir, String trustHash) throws IOException {
        CometRpc rpc = new CometRpc(rpcAddress, 10_000);
        try {
            JsonNode status = rpc.get("/status").get(15, TimeUnit.SECONDS);
            String chainId = status.at("/result/node_info/network").asText();
            if (chainId.isEmpty()) {
                throw new IOException("the RPC at " + rpcAddress + " did not say which chain it serves");
            }
            LightClient light = new LightClient(LightClient.rpcSource(rpc, Duration.ofSeconds(10)),
                    dataDir.resolve("light").resolve(chainId + ".json"), chainId,
                    trustHash == null ? null : java.util.HexFormat.of().parseHex(trustHash));
            return new ChainNames(rpc, new io.oecloud.chain.client.NameResolver(io.oecloud.chain.client.NameResolver.rpcProofs(rpc), light));
        } catch (IOException e) {
            rpc.close();
            throw e;
        } catch (Exception e) {
            rpc.close();
            throw new IOException("the chain's RPC at " + rpcAddress + " did not answer: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized Cid resolve(String name) throws EdgeException {
        try {
            return names.resolveName(name).map(io.oecloud.chain.client.NameResolver.NameRecord::root).orElse(null);
        } catch (IllegalArgumentException e) {
            throw new EdgeException(EdgeException.Kind.NOT_FOUND, "'" + name + "' cannot be a site name: " + e.getMessage());
        } catch (LightClient.VerificationException e) {
            throw new EdgeException(EdgeException.Kind.UNAVAILABLE, "the chain's answer for the name '" + name + "' did not verify: "
                    + e.getMessage());
        } catch (IOException e) {
            throw new EdgeException(EdgeException.Kind.UNAVAILABLE, "the name registry could not be read: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        rpc.close();
    }
}
