package io.oecloud.node.object;

import io.oecloud.dht.PeerId;
import io.oecloud.proofs.Cid;

/** A pin this node's key holds on {@code cid} at {@code peer}: one PUT that completed there. */
record Pin(PeerId peer, Cid cid) {}
