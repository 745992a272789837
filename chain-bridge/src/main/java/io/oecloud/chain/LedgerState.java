package io.oecloud.chain;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ledger's state: accounts (balance, nonce) by address and the fee pool, in sorted maps so
 * every walk over it is in one order on every validator. Copied per block (the working state of
 * FinalizeBlock, the check state of the mempool) and committed whole.
 */
public final class LedgerState {
    /** An account: base units held and the next nonce it must use. */
    public record Account(BigInteger balance, long nonce) {
        public static final Account EMPTY = new Account(BigInteger.ZERO, 0);

        byte[] encode() {
            byte[] b = Amounts.encode(balance);
            return ByteBuffer.allocate(8 + 1 + b.length).putLong(nonce).put((byte) b.length).put(b).array();
        }

        static Account decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long nonce = in.getLong();
            byte[] b = new byte[in.get()];
            in.get(b);
            return new Account(new BigInteger(1, b), nonce);
        }
    }

    /** Who holds a CID since when (height and block time), with its title and license. */
    public record CidRecord(String owner, long sinceHeight, long sinceMillis, String title, String license) {
        byte[] encode() {
            byte[] o = owner.getBytes(StandardCharsets.UTF_8);
            byte[] t = title.getBytes(StandardCharsets.UTF_8);
            byte[] l = license.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(8 + 8 + 6 + o.length + t.length + l.length).putLong(sinceHeight).putLong(sinceMillis)
                    .putShort((short) o.length).put(o).putShort((short) t.length).put(t).putShort((short) l.length).put(l).array();
        }

        static CidRecord decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long h = in.getLong();
            long ms = in.getLong();
            return new CidRecord(string(in), h, ms, string(in), string(in));
        }

        private static String string(ByteBuffer in) {
            byte[] b = new byte[in.getShort() & 0xffff];
            in.get(b);
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    final TreeMap<String, Account> accounts;
    final TreeMap<String, CidRecord> cids = new TreeMap<>();
    /** The block being applied: its time (from CometBFT, never the clock). */
    long timeMillis;
    BigInteger feePool;
    /** Base units created at genesis (the supply invariant's starting point). */
    BigInteger genesisSupply;
    long height;

    LedgerState() {
        this(new TreeMap<>(), BigInteger.ZERO, BigInteger.ZERO, 0);
    }

    private LedgerState(TreeMap<String, Account> accounts, BigInteger feePool, BigInteger genesisSupply, long height) {
        this.accounts = accounts;
        this.feePool = feePool;
        this.genesisSupply = genesisSupply;
        this.height = height;
    }

    LedgerState copy() {
        LedgerState s = new LedgerState(new TreeMap<>(accounts), feePool, genesisSupply, height);
        s.cids.putAll(cids);
        s.timeMillis = timeMillis;
        return s;
    }

    /** The record of a CID (its string form), or null. */
    public CidRecord cid(String cid) {
        return cids.get(cid);
    }

    public Account account(String address) {
        return accounts.getOrDefault(address, Account.EMPTY);
    }

    public BigInteger feePool() {
        return feePool;
    }

    public long height() {
        return height;
    }

    /** Balances plus pools: equal to the genesis supply (nothing is minted, burned or slashed yet). */
    public BigInteger supply() {
        BigInteger s = feePool;
        for (Account a : accounts.values()) {
            s = s.add(a.balance());
        }
        return s;
    }

    public BigInteger genesisSupply() {
        return genesisSupply;
    }

    /** Every key and value of the state, in key order: what the app hash commits to. */
    Map<String, byte[]> entries() {
        TreeMap<String, byte[]> m = new TreeMap<>();
        for (Map.Entry<String, Account> e : accounts.entrySet()) {
            m.put("account/" + e.getKey(), e.getValue().encode());
        }
        for (Map.Entry<String, CidRecord> e : cids.entrySet()) {
            m.put("cid/" + e.getKey(), e.getValue().encode());
        }
        m.put("pool/fees", Amounts.encode(feePool));
        m.put("supply/genesis", Amounts.encode(genesisSupply));
        return m;
    }

    /**
     * The app hash: a binary Merkle tree (SHA-256) over the entries in key order, leaves
     * H(0x00 || len(key) || key || value), inner nodes H(0x01 || left || right), an odd node
     * carried up unchanged. Sorted keys make it canonical; the tree lets a query answer with a
     * path to the root.
     */
    byte[] appHash() {
        List<byte[]> level = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : entries().entrySet()) {
            level.add(leaf(e.getKey(), e.getValue()));
        }
        if (level.isEmpty()) {
            return sha256().digest();
        }
        while (level.size() > 1) {
            List<byte[]> up = new ArrayList<>();
            for (int i = 0; i < level.size(); i += 2) {
                if (i + 1 == level.size()) {
                    up.add(level.get(i));
                } else {
                    MessageDigest d = sha256();
                    d.update((byte) 1);
                    d.update(level.get(i));
                    d.update(level.get(i + 1));
                    up.add(d.digest());
                }
            }
            level = up;
        }
        return level.get(0);
    }

    static byte[] leaf(String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        MessageDigest d = sha256();
        d.update((byte) 0);
        d.update(ByteBuffer.allocate(4).putInt(k.length).array());
        d.update(k);
        d.update(value);
        return d.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
