package io.oecloud.chain.ledger;

import io.oecloud.chain.pb.ChainProto;
import io.oecloud.proofs.Cid;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The name registry: a name owned by an account points to a root CID (a website's directory, an
 * S3 namespace's index), moved by its owner's signed {@code UpdateName} and given away by
 * {@code TransferName}. The first {@code RegisterName} of a name wins and pays
 * {@code names.registerFee} (a genesis parameter) into the fee pool, on top of the transaction's
 * fee. The record is the state entry {@code name/NAME} ({@link Record#encode}), so the app hash
 * and the state proofs cover it.
 *
 * <p>A name is one DNS label, so an edge can serve it as a host name as it is: 3 to 63 bytes of
 * {@code a-z}, {@code 0-9} and {@code -}, neither first nor last {@code -}. No dots: a dotted
 * name would suggest that {@code a.b} belongs to the owner of {@code b}, a hierarchy this
 * registry does not keep. The name is checked before anything else in each transaction
 * ({@link #problem}), then the root, then ownership, then funds; nothing changes unless all pass.
 */
public final class Names {
    /** The shortest and longest name, in bytes (one DNS label is at most 63). */
    public static final int MIN_LENGTH = 3;
    public static final int MAX_LENGTH = 63;
    /** What a registration costs when the genesis names no {@code names.registerFee}: 1 pass. */
    public static final BigInteger DEFAULT_REGISTER_FEE = Amounts.PASS;

    private Names() {}

    /**
     * A name's record.
     *
     * @param owner         the owner's address
     * @param root          the CIDv1 the name points to
     * @param sinceHeight   the block that registered it
     * @param updatedHeight the block of the last change (registration, update or transfer)
     * @param updatedMillis that block's time
     */
    public record Record(String owner, Cid root, long sinceHeight, long updatedHeight, long updatedMillis) {
        public Record {
            if (owner == null || root == null) {
                throw new IllegalArgumentException("a name record needs an owner and a root");
            }
        }

        /** The state entry's value ({@code name/NAME}), as proofs carry it. */
        public byte[] encode() {
            byte[] o = owner.getBytes(StandardCharsets.UTF_8);
            byte[] r = root.toBytes();
            return ByteBuffer.allocate(24 + 2 + o.length + 2 + r.length).putLong(sinceHeight).putLong(updatedHeight).putLong(updatedMillis)
                    .putShort((short) o.length).put(o).putShort((short) r.length).put(r).array();
        }

        /** The record of a state entry's value; IllegalArgumentException when it is not one. */
        public static Record decode(byte[] bytes) {
            try {
                ByteBuffer in = ByteBuffer.wrap(bytes);
                long since = in.getLong();
                long updated = in.getLong();
                long millis = in.getLong();
                String owner = LedgerState.CidRecord.string(in);
                byte[] r = new byte[in.getShort() & 0xffff];
                in.get(r);
                if (in.hasRemaining()) {
                    throw new IllegalArgumentException(in.remaining() + " bytes after the record");
                }
                return new Record(owner, Cid.fromBytes(r), since, updated, millis);
            } catch (java.nio.BufferUnderflowException e) {
                throw new IllegalArgumentException("a name record is cut short (" + bytes.length + " bytes)");
            }
        }
    }

    /**
     * Why {@code name} is not a valid name, in words, or null when it is one: 3 to 63 bytes of
     * lowercase a-z, digits and '-', neither first nor last '-'.
     */
    public static String problem(String name) {
        if (name == null) {
            return "a name is required";
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes < MIN_LENGTH || bytes > MAX_LENGTH) {
            return "name '" + shown(name) + "' is " + bytes + " bytes long: a name is " + MIN_LENGTH + " to " + MAX_LENGTH + " bytes";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
                String what = c >= 'A' && c <= 'Z' ? "an uppercase letter" : c == '.' ? "a dot (one label, no sub-names)" : "a character";
                return "name '" + shown(name) + "' has " + what + " '" + printable(c) + "' at position " + i
                        + ": a name has only lowercase a-z, 0-9 and '-'";
            }
        }
        if (name.charAt(0) == '-' || name.charAt(name.length() - 1) == '-') {
            return "name '" + name + "' " + (name.charAt(0) == '-' ? "starts" : "ends") + " with '-'";
        }
        return null;
    }

    /** A name for a message: at most 80 characters of it. */
    private static String shown(String name) {
        return name.length() > 80 ? name.substring(0, 80) + "…" : name;
    }

    private static String printable(char c) {
        return c < 0x20 || c == 0x7f || Character.isSurrogate(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    /** The root of a transaction as a CIDv1, or null with {@code why[0]} set. */
    private static Cid root(com.google.protobuf.ByteString bytes, String[] why) {
        if (bytes.isEmpty()) {
            why[0] = "the root is empty: give the binary CIDv1 the name points to";
            return null;
        }
        try {
            return Cid.fromBytes(bytes.toByteArray());
        } catch (IllegalArgumentException e) {
            why[0] = "the root is not a CIDv1: " + e.getMessage();
            return null;
        }
    }

    /** RegisterName: {@code spendable} is the sender's balance once the transaction's fee is paid. */
    static Ledger.Result register(LedgerState s, String from, BigInteger spendable, ChainProto.RegisterName r) {
        String name = r.getName();
        String bad = problem(name);
        if (bad != null) {
            return new Ledger.Result(Ledger.Code.BAD_NAME, bad);
        }
        String[] why = new String[1];
        Cid root = root(r.getRoot(), why);
        if (root == null) {
            return new Ledger.Result(Ledger.Code.BAD_CID, why[0]);
        }
        Record held = s.names.get(name);
        if (held != null) {
            return new Ledger.Result(Ledger.Code.NAME_TAKEN, "name '" + name + "' is registered to " + held.owner() + " since height "
                    + held.sinceHeight());
        }
        BigInteger cost = s.nameRegisterFee;
        if (spendable.compareTo(cost) < 0) {
            return new Ledger.Result(Ledger.Code.INSUFFICIENT_FUNDS, "registering a name costs " + cost + " base units (names.registerFee); "
                    + from + " has " + spendable + " once the transaction's fee is paid");
        }
        // every check is done: from here on the state changes
        LedgerState.Account a = s.account(from);
        s.accounts.put(from, new LedgerState.Account(a.balance().subtract(cost), a.nonce()));
        s.feePool = s.feePool.add(cost);
        s.names.put(name, new Record(from, root, s.height, s.height, s.timeMillis));
        return Ledger.Result.OK;
    }

    /** UpdateName: the owner points the name at a new root. */
    static Ledger.Result update(LedgerState s, String from, ChainProto.UpdateName u) {
        String name = u.getName();
        String bad = problem(name);
        if (bad != null) {
            return new Ledger.Result(Ledger.Code.BAD_NAME, bad);
        }
        String[] why = new String[1];
        Cid root = root(u.getRoot(), why);
        if (root == null) {
            return new Ledger.Result(Ledger.Code.BAD_CID, why[0]);
        }
        Record held = owned(s, from, name);
        if (held == null) {
            return notOwned(s, from, name);
        }
        s.names.put(name, new Record(from, root, held.sinceHeight(), s.height, s.timeMillis));
        return Ledger.Result.OK;
    }

    /** TransferName: the owner gives the name to another address; the root stays. */
    static Ledger.Result transfer(LedgerState s, String from, ChainProto.TransferName t) {
        String name = t.getName();
        String bad = problem(name);
        if (bad != null) {
            return new Ledger.Result(Ledger.Code.BAD_NAME, bad);
        }
        try {
            Ledger.checkAddress(t.getTo());
        } catch (IllegalArgumentException e) {
            return new Ledger.Result(Ledger.Code.BAD_ADDRESS, "receiver '" + shown(t.getTo()) + "' is not an address: " + e.getMessage());
        }
        Record held = owned(s, from, name);
        if (held == null) {
            return notOwned(s, from, name);
        }
        if (t.getTo().equals(from)) {
            return new Ledger.Result(Ledger.Code.BAD_ADDRESS, "name '" + name + "' is already " + from + "'s: transfer it to another address");
        }
        s.names.put(name, new Record(t.getTo(), held.root(), held.sinceHeight(), s.height, s.timeMillis));
        return Ledger.Result.OK;
    }

    private static Record owned(LedgerState s, String from, String name) {
        Record held = s.names.get(name);
        return held != null && held.owner().equals(from) ? held : null;
    }

    private static Ledger.Result notOwned(LedgerState s, String from, String name) {
        Record held = s.names.get(name);
        return held == null ? new Ledger.Result(Ledger.Code.UNKNOWN_NAME, "name '" + name + "' is not registered")
                : new Ledger.Result(Ledger.Code.NOT_OWNER, "name '" + name + "' is registered to " + held.owner() + ", not to " + from);
    }
}
