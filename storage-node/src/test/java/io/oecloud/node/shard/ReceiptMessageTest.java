package io.oecloud.node.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.oecloud.chain.ledger.Contracts;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What a holder signs for a receipt is what the ledger checks: {@link Receipts#message} against
 * {@link Contracts#receiptMessage} and against the layout written out here from its description
 * (oechain.proto's Receipt, Contracts' Javadoc), for many field values at their edges.
 */
class ReceiptMessageTest {
    /**
     * The layout, from the description: domain, then u16-length-prefixed chain, object, payer,
     * holder, then u64 bytes, u32 blocks, the 32-byte entries root, u64 period.
     */
    private static byte[] described(String chain, byte[] object, String payer, String holder, long bytes, int blocks, byte[] root,
                                    long period) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("oechain/receipt/v2".getBytes(StandardCharsets.US_ASCII));
        for (byte[] part : new byte[][] {chain.getBytes(StandardCharsets.UTF_8), object, payer.getBytes(StandardCharsets.US_ASCII),
            holder.getBytes(StandardCharsets.US_ASCII)}) {
            out.write(part.length >>> 8);
            out.write(part.length & 0xff);
            out.writeBytes(part);
        }
        out.writeBytes(ByteBuffer.allocate(52).putLong(bytes).putInt(blocks).put(root).putLong(period).array());
        return out.toByteArray();
    }

    @Test
    void holdersMessage_isTheLedgers_andItsDescription() {
        Random rnd = new Random(2550);
        long[] edges = {0, 1, 255, 256, Integer.MAX_VALUE, 1L << 32, Long.MAX_VALUE, -1};
        for (int i = 0; i < 500; i++) {
            byte[] seed = new byte[32];
            rnd.nextBytes(seed);
            String payer = Identity.fromSeed(seed).peerId().toString();
            rnd.nextBytes(seed);
            String holder = Identity.fromSeed(seed).peerId().toString();
            byte[] data = new byte[rnd.nextInt(64)];
            rnd.nextBytes(data);
            byte[] object = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, data).toBytes();
            String chain = i % 3 == 0 ? "oe-devnet" : "chain-" + rnd.nextInt(1_000_000);
            long bytes = i < edges.length ? edges[i] : rnd.nextLong();
            int blocks = i < edges.length ? (int) edges[i] : rnd.nextInt();
            long period = i < edges.length ? edges[edges.length - 1 - i] : rnd.nextLong();
            byte[] root = new byte[32];
            rnd.nextBytes(root);
            byte[] ours = Receipts.message(chain, object, payer, holder, bytes, blocks, root, period);
            assertArrayEquals(Contracts.receiptMessage(chain, object, payer, holder, bytes, blocks, root, period), ours);
            assertArrayEquals(described(chain, object, payer, holder, bytes, blocks, root, period), ours);
        }
    }

    @Test
    void everyFieldChangesTheMessage() {
        byte[] object = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, new byte[] {1}).toBytes();
        byte[] other = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, new byte[] {2}).toBytes();
        String a = Identity.fromSeed(new byte[32]).peerId().toString();
        byte[] s1 = new byte[32];
        s1[0] = 1;
        String b = Identity.fromSeed(s1).peerId().toString();
        byte[] r = new byte[32];
        byte[] r2 = new byte[32];
        r2[31] = 1;
        byte[] base = Receipts.message("c", object, a, b, 10, 2, r, 5);
        byte[][] changed = {Receipts.message("d", object, a, b, 10, 2, r, 5), Receipts.message("c", other, a, b, 10, 2, r, 5),
            Receipts.message("c", object, b, a, 10, 2, r, 5), Receipts.message("c", object, a, b, 11, 2, r, 5),
            Receipts.message("c", object, a, b, 10, 3, r, 5), Receipts.message("c", object, a, b, 10, 2, r2, 5),
            Receipts.message("c", object, a, b, 10, 2, r, 6)};
        for (byte[] c : changed) {
            assertFalse(java.util.Arrays.equals(base, c));
        }
        assertEquals(18 + 2 + 1 + 2 + object.length + 2 + a.length() + 2 + b.length() + 52, base.length);
    }
}
