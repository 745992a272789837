package io.oecloud.edge;

import io.oecloud.proofs.Cid;

/**
 * Site names to root CIDs: OEChain's name registry, checked with a light-client proof by the
 * implementation the {@code oe} program wires in. The edge caches answers for a few seconds, so
 * a name's update is followed within them.
 */
@FunctionalInterface
public interface NameResolver {
    /**
     * The root CID {@code name} points to now, or null when no such name is registered.
     *
     * @throws EdgeException UNAVAILABLE (or TIMEOUT) when the registry could not be asked or its proof did not verify
     */
    Cid resolve(String name) throws EdgeException;
}
