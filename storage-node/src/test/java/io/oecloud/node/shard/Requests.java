package io.oecloud.node.shard;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayOutputStream;
import java.util.Random;

/** Shard requests as a client builds them (signed or not), and their bytes on the wire, for tests. */
final class Requests {
    private Requests() {}

    static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    static long soon() {
        return System.currentTimeMillis() + 60_000;
    }

    /** A PUT header of {@code size} bytes for {@code cid}, pinned by {@code owner} for {@code holder}. */
    static ShardRequest put(Identity owner, PeerId holder, Cid cid, long size, long notAfter) {
        return ShardRequest.newBuilder().setOp(ShardRequest.Op.PUT).setCid(ByteString.copyFrom(cid.toBytes())).setSize(size)
                .setOwner(ByteString.copyFrom(owner.publicKey())).setNotAfter(notAfter)
                .setSignature(ByteString.copyFrom(owner.sign(ShardServer.pinMessage(holder, cid, notAfter)))).build();
    }

    static ShardRequest put(Identity owner, PeerId holder, Cid cid, long size) {
        return put(owner, holder, cid, size, soon());
    }

    /** A DELETE of one of {@code owner}'s pins of {@code cid} at {@code holder}. */
    static ShardRequest delete(Identity owner, PeerId holder, Cid cid, long notAfter, byte[] nonce) {
        return ShardRequest.newBuilder().setOp(ShardRequest.Op.DELETE).setCid(ByteString.copyFrom(cid.toBytes()))
                .setOwner(ByteString.copyFrom(owner.publicKey())).setNotAfter(notAfter).setNonce(ByteString.copyFrom(nonce))
                .setSignature(ByteString.copyFrom(owner.sign(ShardServer.deleteMessage(holder, cid, notAfter, nonce)))).build();
    }

    static ShardRequest delete(Identity owner, PeerId holder, Cid cid, Random rnd) {
        byte[] nonce = new byte[ShardServer.NONCE];
        rnd.nextBytes(nonce);
        return delete(owner, holder, cid, soon(), nonce);
    }

    static ShardRequest get(Cid cid, long offset, long length) {
        return ShardRequest.newBuilder().setOp(ShardRequest.Op.GET).setCid(ByteString.copyFrom(cid.toBytes()))
                .setOffset(offset).setLength(length).build();
    }

    static ShardRequest prove(Cid cid, long firstChunk, long chunkCount) {
        return ShardRequest.newBuilder().setOp(ShardRequest.Op.PROVE).setCid(com.google.protobuf.ByteString.copyFrom(cid.toBytes()))
                .setFirstChunk(firstChunk).setChunkCount(chunkCount).build();
    }

    /** A RECEIPT of {@code object} for payer {@code payer} and chain period {@code period}. */
    static ShardRequest receipt(Identity payer, Cid object, long period) {
        return ShardRequest.newBuilder().setOp(ShardRequest.Op.RECEIPT).setCid(ByteString.copyFrom(object.toBytes()))
                .setOwner(ByteString.copyFrom(payer.publicKey())).setPeriod(period).build();
    }

    static ShardRequest has(Cid cid) {
        return ShardRequest.newBuilder().setOp(ShardRequest.Op.HAS).setCid(ByteString.copyFrom(cid.toBytes())).build();
    }

    /** The request length-prefixed as on the wire, then {@code body}. */
    static byte[] framed(ShardRequest r, byte[] body) {
        byte[] m = r.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long v = m.length;
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        out.writeBytes(m);
        if (body != null) {
            out.writeBytes(body);
        }
        return out.toByteArray();
    }
}
