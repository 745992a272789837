package io.oecloud.node;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import java.nio.charset.StandardCharsets;

/** Manifests as their owners sign them, for the tests that store made-up ones on a {@link TestNetwork}. */
final class TestManifests {
    private TestManifests() {}

    /**
     * The manifest block as its owner signs it, written here from the format's description
     * (manifest.proto, field 12), not with the node's code: Ed25519 by {@code owner} over
     * "oe-manifest:" || the canonical bytes of the manifest without its signature.
     */
    static byte[] sign(Manifest m, Identity owner) {
        byte[] body = m.toBuilder().clearSignature().build().toByteArray();
        byte[] domain = "oe-manifest:".getBytes(StandardCharsets.US_ASCII);
        byte[] msg = new byte[domain.length + body.length];
        System.arraycopy(domain, 0, msg, 0, domain.length);
        System.arraycopy(body, 0, msg, domain.length, body.length);
        return m.toBuilder().setSignature(ByteString.copyFrom(owner.sign(msg))).build().toByteArray();
    }
}
