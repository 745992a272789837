package io.oecloud.node;

import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectView;
import io.oecloud.node.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** In-JVM storage networks on loopback for tests, and what the manifest tests share. */
final class TestNetworks {
    private TestNetworks() {}

    /** {@code n} storage nodes, each connected to and identified by every other ({@link TestNetwork}). */
    static List<StorageNode> start(Path dir, int n, ObjectService.Config config) throws Exception {
        return TestNetwork.start(dir, n, config).nodes;
    }

    static StorageNode holderOf(List<StorageNode> nodes, com.google.protobuf.ByteString peer) {
        PeerId p = PeerId.fromBytes(peer.toByteArray());
        return nodes.stream().filter(n -> n.p2p.host.peerId().equals(p)).findFirst().orElseThrow();
    }

    static byte[] read(StorageNode n, Cid cid) throws Exception {
        ObjectView v = n.objects.stat(cid);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        n.objects.read(v, ObjectStore.ByteSpan.all(v.size()), out);
        return out.toByteArray();
    }

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
        return m.toBuilder().setSignature(com.google.protobuf.ByteString.copyFrom(owner.sign(msg))).build().toByteArray();
    }
}
