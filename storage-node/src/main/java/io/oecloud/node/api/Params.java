package io.oecloud.node.api;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.http.HttpError;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;

/** Request text parsed for the DHT routes; a bad value is 400 naming it. */
final class Params {
    private Params() {}

    static int max(String s) {
        try {
            int v = Integer.parseInt(s);
            if (v < 1 || v > 1000) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "max must be a number from 1 to 1000, was '" + s + "'");
        }
    }

    static Cid cid(String s) {
        try {
            return Cid.parse(s);
        } catch (CidFormatException e) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "malformed CID '" + s + "': " + e.getMessage());
        }
    }

    static PeerId peerId(String s) {
        try {
            return PeerId.parse(s);
        } catch (IllegalArgumentException e) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "malformed peer ID '" + s + "': " + e.getMessage());
        }
    }

    static Multiaddr multiaddr(String s) {
        try {
            return Multiaddr.parse(s);
        } catch (IllegalArgumentException e) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "malformed multiaddr '" + s + "': " + e.getMessage());
        }
    }
}
