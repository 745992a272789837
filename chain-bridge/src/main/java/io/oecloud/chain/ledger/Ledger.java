package io.oecloud.chain.ledger;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.Tx;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The ledger's rules: a pure function from (state, transaction bytes) to (new state, result).
 * Deterministic by construction: no clock, no randomness, no floating point, sorted state, and
 * the signature is checked over the exact bytes that were sent.
 */
public final class Ledger {
    /** Transactions larger than this are refused before they are parsed. */
    public static final int MAX_TX_BYTES = 64 * 1024;
    static final byte[] SIGN_DOMAIN = "oechain/tx/v1".getBytes(StandardCharsets.US_ASCII);

    /** Result codes (0 is success), as CheckTx and FinalizeBlock report them. */
    public enum Code {
        OK, MALFORMED, BAD_SIGNATURE, WRONG_CHAIN, BAD_NONCE, INSUFFICIENT_FUNDS, FEE_TOO_LOW, BAD_AMOUNT, TOO_LARGE,
        UNKNOWN_TYPE, BAD_ADDRESS, BAD_CID, CID_TAKEN, NOT_CID_OWNER, UNKNOWN_CID, NOT_CANDIDATE, CANDIDATE_EXISTS, BAD_KEY,
        KEY_TAKEN, INSUFFICIENT_STAKE, NOT_JAILED, TOO_SOON, NO_GENESIS, MEMPOOL_FULL,
        // proofs of storage (appended: the codes above keep their values)
        NOT_STORAGE_NODE, TOO_LATE, ROOT_EXISTS, NO_ROOT, ALREADY_PROVEN, INVALID_PROOF,
        // timed retrieval audits (appended)
        NOT_AUDITOR, VERDICT_EXISTS,
        // a storage node leaving (appended)
        LEAVING,
        // paid storage (appended): Contracts
        CONTRACT_EXISTS, NO_CONTRACT, CONTRACT_ENDED, PRICE_ABOVE_MAX, BAD_RECEIPT, RECEIPT_SIGNATURE, STALE_RECEIPT, DUPLICATE_HOLDER,
        TOO_MANY_TERMS,
        // the name registry (appended): Names
        BAD_NAME, NAME_TAKEN, NOT_OWNER, UNKNOWN_NAME;

        public int value() {
            return ordinal();
        }
    }

    /** What applying a transaction did. */
    public record Result(Code code, String log, java.util.Map<String, String> tags) {
        static final Result OK = new Result(Code.OK, "");

        public Result(Code code, String log) {
            this(code, log, java.util.Map.of());
        }

        public boolean ok() {
            return code == Code.OK;
        }
    }

    private final String chainId;
    private final Fees fees;
    private final Verifier verifier;
    /**
     * Signatures already checked, by the SHA-256 of the signed message and signature: a
     * transaction is verified once (usually at admission), not again at every recheck and in
     * FinalizeBlock. Only valid results are kept, and a hit means the very same bytes verified
     * before, so the outcome is the same as verifying again.
     */
    private final com.github.benmanes.caffeine.cache.Cache<java.nio.ByteBuffer, Boolean> verified =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(200_000).build();

    /** The signature check (tests count its calls and the locks held during them). */
    @FunctionalInterface
    public interface Verifier {
        boolean verify(byte[] signature, byte[] publicKey, byte[] message);
    }

    public Ledger(String chainId, Fees fees) {
        this(chainId, fees, TxSignatures::verify);
    }

    /** A ledger whose signatures {@code verifier} checks (the mempool's tests count its calls). */
    public Ledger(String chainId, Fees fees, Verifier verifier) {
        this.chainId = chainId;
        this.fees = fees;
        this.verifier = verifier;
    }

    public String chainId() {
        return chainId;
    }

    /** What a transaction must pay on this chain. */
    public Fees fees() {
        return fees;
    }

    /** Addresses by key, and addresses known to parse: base58 is the ledger's costliest string work. */
    private static final com.github.benmanes.caffeine.cache.Cache<java.nio.ByteBuffer, String> ADDRESSES =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(100_000).build();
    private static final com.github.benmanes.caffeine.cache.Cache<String, Boolean> VALID_ADDRESSES =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(100_000).build();

    /** The account address of an Ed25519 public key: its libp2p peer ID, as the node's identity. */
    public static String address(byte[] ed25519PublicKey) {
        return ADDRESSES.get(java.nio.ByteBuffer.wrap(ed25519PublicKey.clone()), k -> PeerId.fromEd25519(ed25519PublicKey).toString());
    }

    /** Throws IllegalArgumentException unless {@code address} is a peer ID. */
    static void checkAddress(String address) {
        if (VALID_ADDRESSES.getIfPresent(address) == null) {
            PeerId.parse(address);
            VALID_ADDRESSES.put(address, Boolean.TRUE);
        }
    }

    /** Signs a transaction body with {@code key} (the fee as the body says: {@link Fees#sign} fills it in). */
    public static byte[] sign(Identity key, TxBody body) {
        byte[] b = body.toByteArray();
        return Tx.newBuilder().setBody(ByteString.copyFrom(b)).setSignature(ByteString.copyFrom(key.sign(signed(b))))
                .build().toByteArray();
    }

    /** One SHA-256 per thread: looking the algorithm up costs more than hashing a transaction. */
    private static final ThreadLocal<java.security.MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    /**
     * This thread's SHA-256, reset: for the hashes taken per transaction or per gossip batch
     * (the mempool's transaction hashes, the gossip's signatures and batches), where
     * {@code MessageDigest.getInstance} (a provider lookup) cost more than hashing ~180 bytes.
     * The caller finishes with {@code digest()} before anything else on the thread uses it.
     */
    public static java.security.MessageDigest sha256() {
        java.security.MessageDigest d = SHA256.get();
        d.reset();
        return d;
    }

    private static byte[] digest(byte[] msg, byte[] sig) {
        java.security.MessageDigest d = sha256();
        d.update(msg);
        d.update(sig);
        return d.digest();
    }

    private static byte[] signed(byte[] body) {
        byte[] m = new byte[SIGN_DOMAIN.length + body.length];
        System.arraycopy(SIGN_DOMAIN, 0, m, 0, SIGN_DOMAIN.length);
        System.arraycopy(body, 0, m, SIGN_DOMAIN.length, body.length);
        return m;
    }

    /** A receipt's signature, through the same cache as transactions' (a receipt is checked at admission, not again). */
    private boolean receiptValid(byte[] sig, byte[] pk, byte[] msg) {
        java.nio.ByteBuffer key = java.nio.ByteBuffer.wrap(digest(msg, sig));
        if (verified.getIfPresent(key) != null) {
            return true;
        }
        boolean valid = verifier.verify(sig, pk, msg);
        if (valid) {
            verified.put(key, Boolean.TRUE);
        }
        return valid;
    }

    private boolean signatureValid(Tx tx, byte[] pk) {
        byte[] msg = signed(tx.getBody().toByteArray());
        byte[] sig = tx.getSignature().toByteArray();
        java.nio.ByteBuffer key = java.nio.ByteBuffer.wrap(digest(msg, sig));
        if (verified.getIfPresent(key) != null) {
            return true;
        }
        boolean valid = verifier.verify(sig, pk, msg);
        if (valid) {
            verified.put(key, Boolean.TRUE);
        }
        return valid;
    }

    /**
     * A transaction after the checks that need no state: size, encoding, signature, chain. Made by
     * {@link #check} on any thread, so the signature is verified where the bytes arrive (HTTP
     * threads, or before the ABCI call takes the ledger's lock) and carried into {@link #apply},
     * which never verifies it again. Either {@link #refusal} is set, or the parsed parts are.
     */
    public static final class Checked {
        final byte[] bytes;
        final Result refusal;
        final TxBody body;
        final String sender;
        final BigInteger fee;
        /** Why the fee field is not a valid amount (null when it is): {@link #apply} reports it after the nonce. */
        final String feeError;

        private Checked(byte[] bytes, Result refusal, TxBody body, String sender, BigInteger fee, String feeError) {
            this.bytes = bytes;
            this.refusal = refusal;
            this.body = body;
            this.sender = sender;
            this.fee = fee;
            this.feeError = feeError;
        }

        static Checked refused(byte[] bytes, Code code, String log) {
            return new Checked(bytes, new Result(code, log), null, null, BigInteger.ZERO, null);
        }

        /** The refusal, or null when the transaction may be applied to a state. */
        public Result refusal() {
            return refusal;
        }

        /** Whether this is a SubmitProof that passed the checks (node metrics time those). */
        public boolean isSubmitProof() {
            return body != null && body.getKindCase() == TxBody.KindCase.SUBMIT_PROOF;
        }

        public byte[] bytes() {
            return bytes;
        }

        /** The sender's address (null when refused). */
        public String sender() {
            return sender;
        }

        /** The fee offered (0 when refused or not a valid amount: {@link #apply} reports that). */
        public BigInteger fee() {
            return fee;
        }

        public long nonce() {
            return body == null ? -1 : body.getNonce();
        }
    }

    /**
     * The state-free checks of {@code txBytes}, in the order {@link #apply} reports them: size,
     * encoding (no field this ledger does not know: nothing unsigned or unpriced rides along),
     * key and signature lengths, the signature, the chain.
     */
    public Checked check(byte[] txBytes) {
        if (txBytes.length > MAX_TX_BYTES) {
            return Checked.refused(txBytes, Code.TOO_LARGE, "transaction of " + txBytes.length + " bytes exceeds " + MAX_TX_BYTES);
        }
        Tx tx;
        TxBody body;
        try {
            tx = Tx.parseFrom(txBytes);
            body = TxBody.parseFrom(tx.getBody());
        } catch (InvalidProtocolBufferException e) {
            return Checked.refused(txBytes, Code.MALFORMED, "not a transaction: " + e.getMessage());
        }
        String unknown = unknownFields(tx, body);
        if (unknown != null) {
            return Checked.refused(txBytes, Code.MALFORMED, unknown);
        }
        byte[] pk = body.getSender().toByteArray();
        if (pk.length != 32 || tx.getSignature().size() != 64) {
            return Checked.refused(txBytes, Code.MALFORMED, "sender must be a 32-byte Ed25519 key and the signature 64 bytes");
        }
        if (!signatureValid(tx, pk)) {
            return Checked.refused(txBytes, Code.BAD_SIGNATURE, "signature does not verify for the sender's key");
        }
        if (!chainId.equals(body.getChainId())) {
            return Checked.refused(txBytes, Code.WRONG_CHAIN, "transaction is for chain '" + body.getChainId() + "', this is '" + chainId + "'");
        }
        if (body.getKindCase() == TxBody.KindCase.REGISTER_CANDIDATE) { // the PoP's pairings: here, outside the ledger's lock
            Result bad = Staking.checkBeaconKey(address(pk), body.getRegisterCandidate().getBeaconKey().toByteArray(),
                    body.getRegisterCandidate().getBeaconPop().toByteArray());
            if (bad != null) {
                return Checked.refused(txBytes, bad.code(), bad.log());
            }
        }
        Result receipts = switch (body.getKindCase()) { // the holders' signatures: state-free, so here too
            case CREATE_CONTRACT -> Contracts.checkReceiptSignatures(chainId, body.getCreateContract().getObject().toByteArray(),
                    address(pk), body.getCreateContract().getReceiptsList(), this::receiptValid);
            case MOVE_SHARES -> Contracts.checkReceiptSignatures(chainId, body.getMoveShares().getObject().toByteArray(),
                    address(pk), body.getMoveShares().getReceiptsList(), this::receiptValid);
            default -> null;
        };
        if (receipts != null) {
            return Checked.refused(txBytes, receipts.code(), receipts.log());
        }
        BigInteger fee;
        String feeError = null;
        try {
            fee = Amounts.decode(body.getFee().toByteArray(), "fee");
        } catch (Amounts.AmountException e) {
            fee = BigInteger.ZERO; // apply reports it after the nonce, as it always has
            feeError = e.getMessage();
        }
        return new Checked(txBytes, null, body, address(pk), fee, feeError);
    }

    /**
     * A field this ledger does not know, in the transaction, its body or its operation, named;
     * null when there is none. Such fields would ride along signed but meaningless (padding, or
     * a second encoding of the same transaction).
     */
    private static String unknownFields(Tx tx, TxBody body) {
        if (!tx.getUnknownFields().asMap().isEmpty()) {
            return "transaction has unknown field(s) " + tx.getUnknownFields().asMap().keySet();
        }
        if (!body.getUnknownFields().asMap().isEmpty()) {
            return "transaction body has unknown field(s) " + body.getUnknownFields().asMap().keySet();
        }
        com.google.protobuf.Message op = switch (body.getKindCase()) {
            case TRANSFER -> body.getTransfer();
            case REGISTER_CID -> body.getRegisterCid();
            case TRANSFER_CID -> body.getTransferCid();
            case REGISTER_CANDIDATE -> body.getRegisterCandidate();
            case EDIT_CANDIDATE -> body.getEditCandidate();
            case BOND -> body.getBond();
            case UNBOND -> body.getUnbond();
            case DELEGATE -> body.getDelegate();
            case UNDELEGATE -> body.getUndelegate();
            case UNJAIL -> body.getUnjail();
            case REGISTER_STORAGE_NODE -> body.getRegisterStorageNode();
            case COMMIT_ROOT -> body.getCommitRoot();
            case SUBMIT_PROOF -> body.getSubmitProof();
            case DECLARE_FAULTS -> body.getDeclareFaults();
            case AUDIT_VERDICTS -> body.getAuditVerdicts();
            case UNREGISTER_STORAGE_NODE -> body.getUnregisterStorageNode();
            case CREATE_CONTRACT -> body.getCreateContract();
            case RENEW_CONTRACT -> body.getRenewContract();
            case END_CONTRACT -> body.getEndContract();
            case MOVE_SHARES -> body.getMoveShares();
            case REGISTER_NAME -> body.getRegisterName();
            case UPDATE_NAME -> body.getUpdateName();
            case TRANSFER_NAME -> body.getTransferName();
            case KIND_NOT_SET -> null;
        };
        if (body.getKindCase() == TxBody.KindCase.AUDIT_VERDICTS) {
            for (io.oecloud.chain.pb.ChainProto.AuditVerdict v : body.getAuditVerdicts().getVerdictsList()) {
                if (!v.getUnknownFields().asMap().isEmpty()) {
                    return "audit_verdicts' verdict has unknown field(s) " + v.getUnknownFields().asMap().keySet();
                }
            }
        }
        if (body.getKindCase() == TxBody.KindCase.SUBMIT_PROOF) {
            for (io.oecloud.chain.pb.ChainProto.ProofAnswer a : body.getSubmitProof().getAnswersList()) {
                if (!a.getUnknownFields().asMap().isEmpty()) {
                    return "submit_proof's answer has unknown field(s) " + a.getUnknownFields().asMap().keySet();
                }
            }
            for (io.oecloud.chain.pb.ChainProto.ContractAnswer a : body.getSubmitProof().getContractAnswersList()) {
                if (!a.getUnknownFields().asMap().isEmpty()) {
                    return "submit_proof's contract answer has unknown field(s) " + a.getUnknownFields().asMap().keySet();
                }
            }
        }
        List<io.oecloud.chain.pb.ChainProto.Receipt> receipts = switch (body.getKindCase()) {
            case CREATE_CONTRACT -> body.getCreateContract().getReceiptsList();
            case MOVE_SHARES -> body.getMoveShares().getReceiptsList();
            default -> List.of();
        };
        for (io.oecloud.chain.pb.ChainProto.Receipt r : receipts) {
            if (!r.getUnknownFields().asMap().isEmpty()) {
                return body.getKindCase().name().toLowerCase(java.util.Locale.ROOT) + "'s receipt has unknown field(s) "
                        + r.getUnknownFields().asMap().keySet();
            }
        }
        if (op != null && !op.getUnknownFields().asMap().isEmpty()) {
            return body.getKindCase().name().toLowerCase(java.util.Locale.ROOT) + " has unknown field(s) " + op.getUnknownFields().asMap().keySet();
        }
        return null;
    }

    /** Applies {@code txBytes} to {@code s} when valid (the state is untouched otherwise). */
    public Result apply(LedgerState s, byte[] txBytes) {
        return apply(s, check(txBytes));
    }

    /** Applies a checked transaction to {@code s} when valid (the state is untouched otherwise); never verifies a signature. */
    public Result apply(LedgerState s, Checked c) {
        if (c.refusal != null) {
            return c.refusal;
        }
        TxBody body = c.body;
        String from = c.sender;
        LedgerState.Account sender = s.account(from);
        if (body.getNonce() != sender.nonce()) {
            return new Result(Code.BAD_NONCE, "nonce " + Long.toUnsignedString(body.getNonce()) + " but the account's next nonce is "
                    + sender.nonce() + (Long.compareUnsigned(body.getNonce(), sender.nonce()) < 0 ? " (a replay)" : ""));
        }
        if (c.feeError != null) { // decoded once, by check
            return new Result(Code.BAD_AMOUNT, c.feeError);
        }
        BigInteger fee = c.fee;
        if (!fees.covers(fee, c.bytes.length)) {
            BigInteger required = fees.required(c.bytes.length);
            return new Result(Code.FEE_TOO_LOW, "fee " + fee + " is below the " + required + " this transaction must pay ("
                    + fees.minimum() + " + " + fees.perByte() + " per byte x " + c.bytes.length + " bytes)");
        }
        Result r = switch (body.getKindCase()) {
            case TRANSFER -> transfer(s, from, sender, fee, body.getTransfer());
            case REGISTER_CID -> registerCid(s, from, sender, fee, body.getRegisterCid());
            case TRANSFER_CID -> transferCid(s, from, sender, fee, body.getTransferCid());
            case REGISTER_CANDIDATE, EDIT_CANDIDATE, BOND, UNBOND, DELEGATE, UNDELEGATE, UNJAIL -> staking(s, from, sender, fee, body);
            case REGISTER_STORAGE_NODE, COMMIT_ROOT, SUBMIT_PROOF, DECLARE_FAULTS, UNREGISTER_STORAGE_NODE -> storage(s, from, sender, fee, body);
            case AUDIT_VERDICTS -> audit(s, from, sender, fee, body);
            case CREATE_CONTRACT, RENEW_CONTRACT, END_CONTRACT, MOVE_SHARES -> contracts(s, from, sender, fee, body);
            case REGISTER_NAME, UPDATE_NAME, TRANSFER_NAME -> names(s, from, sender, fee, body);
            default -> new Result(Code.UNKNOWN_TYPE, "unknown transaction type " + body.getKindCase());
        };
        return r.ok() ? new Result(Code.OK, "", tags(from, body)) : r;
    }

    /** What a committed transaction is indexed by (CometBFT's tx_search): its sender, receiver and kind. */
    private static java.util.Map<String, String> tags(String from, TxBody body) {
        String to = switch (body.getKindCase()) {
            case TRANSFER -> body.getTransfer().getTo();
            case TRANSFER_CID -> body.getTransferCid().getTo();
            case TRANSFER_NAME -> body.getTransferName().getTo();
            case DELEGATE -> body.getDelegate().getCandidate();
            case UNDELEGATE -> body.getUndelegate().getCandidate();
            default -> "";
        };
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("sender", from);
        if (!to.isEmpty()) {
            m.put("receiver", to);
        }
        m.put("kind", body.getKindCase().name().toLowerCase(java.util.Locale.ROOT));
        return m;
    }

    /** The staking operations: checked against what the sender can spend once the fee is paid. */
    private static Result staking(LedgerState s, String from, LedgerState.Account sender, BigInteger fee, TxBody body) {
        if (sender.balance().compareTo(fee) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " holds " + sender.balance() + ", the fee is " + fee);
        }
        BigInteger spendable = sender.balance().subtract(fee);
        Result r;
        try {
            r = switch (body.getKindCase()) {
                case REGISTER_CANDIDATE -> Staking.registerCandidate(s, from, spendable,
                        body.getRegisterCandidate().getValidatorKey().toByteArray(), body.getRegisterCandidate().getCommissionPpm(),
                        body.getRegisterCandidate().getMoniker(), Amounts.decode(body.getRegisterCandidate().getSelfBond().toByteArray(), "self-bond"),
                        body.getRegisterCandidate().getBeaconKey().toByteArray());
                case EDIT_CANDIDATE -> Staking.editCandidate(s, from, body.getEditCandidate().getCommissionPpm(), body.getEditCandidate().getMoniker());
                case BOND -> Staking.delegate(s, from, spendable, from, Amounts.decode(body.getBond().getAmount().toByteArray(), "amount"));
                case UNBOND -> Staking.undelegate(s, from, from, Amounts.decode(body.getUnbond().getAmount().toByteArray(), "amount"));
                case DELEGATE -> Staking.delegate(s, from, spendable, body.getDelegate().getCandidate(),
                        Amounts.decode(body.getDelegate().getAmount().toByteArray(), "amount"));
                case UNDELEGATE -> Staking.undelegate(s, from, body.getUndelegate().getCandidate(),
                        Amounts.decode(body.getUndelegate().getAmount().toByteArray(), "amount"));
                case UNJAIL -> Staking.unjail(s, from);
                default -> throw new IllegalStateException(body.getKindCase().toString());
            };
        } catch (Amounts.AmountException e) {
            return new Result(Code.BAD_AMOUNT, e.getMessage());
        }
        return settle(s, from, fee, r);
    }

    /** The proof-of-storage operations (Storage): checked against what the sender can spend once the fee is paid. */
    private static Result storage(LedgerState s, String from, LedgerState.Account sender, BigInteger fee, TxBody body) {
        if (sender.balance().compareTo(fee) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " holds " + sender.balance() + ", the fee is " + fee);
        }
        BigInteger spendable = sender.balance().subtract(fee);
        Result r;
        try {
            r = switch (body.getKindCase()) {
                case REGISTER_STORAGE_NODE -> Storage.register(s, from, spendable, body.getRegisterStorageNode().getCapacity(),
                        Amounts.decode(body.getRegisterStorageNode().getCollateral().toByteArray(), "collateral"),
                        body.getRegisterStorageNode().getAsk().isEmpty() ? null
                                : Amounts.decode(body.getRegisterStorageNode().getAsk().toByteArray(), "ask"));
                case COMMIT_ROOT -> Storage.commitRoot(s, from, body.getCommitRoot().getPeriod(), body.getCommitRoot().getRoot().toByteArray(),
                        body.getCommitRoot().getCount());
                case SUBMIT_PROOF -> Storage.submitProof(s, from, body.getSubmitProof());
                case DECLARE_FAULTS -> Storage.declareFaults(s, from, spendable, body.getDeclareFaults().getPeriod(),
                        body.getDeclareFaults().getCidsList().stream().map(ByteString::toByteArray).toList());
                case UNREGISTER_STORAGE_NODE -> StorageExit.unregister(s, from);
                default -> throw new IllegalStateException(body.getKindCase().toString());
            };
        } catch (Amounts.AmountException e) {
            return new Result(Code.BAD_AMOUNT, e.getMessage());
        }
        return settle(s, from, fee, r);
    }

    /** The paid-storage operations (Contracts): checked against what the sender can spend once the fee is paid. */
    private static Result contracts(LedgerState s, String from, LedgerState.Account sender, BigInteger fee, TxBody body) {
        if (sender.balance().compareTo(fee) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " holds " + sender.balance() + ", the fee is " + fee);
        }
        BigInteger spendable = sender.balance().subtract(fee);
        Result r;
        try {
            r = switch (body.getKindCase()) {
                case CREATE_CONTRACT -> Contracts.create(s, from, spendable, body.getCreateContract());
                case RENEW_CONTRACT -> Contracts.renew(s, from, spendable, body.getRenewContract());
                case END_CONTRACT -> Contracts.end(s, from, body.getEndContract().getObject().toByteArray());
                case MOVE_SHARES -> Contracts.move(s, from, body.getMoveShares());
                default -> throw new IllegalStateException(body.getKindCase().toString());
            };
        } catch (Amounts.AmountException e) {
            return new Result(Code.BAD_AMOUNT, e.getMessage());
        }
        return settle(s, from, fee, r);
    }

    /** The name registry's operations (Names): checked against what the sender can spend once the fee is paid. */
    private static Result names(LedgerState s, String from, LedgerState.Account sender, BigInteger fee, TxBody body) {
        if (sender.balance().compareTo(fee) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " holds " + sender.balance() + ", the fee is " + fee);
        }
        Result r = switch (body.getKindCase()) {
            case REGISTER_NAME -> Names.register(s, from, sender.balance().subtract(fee), body.getRegisterName());
            case UPDATE_NAME -> Names.update(s, from, body.getUpdateName());
            case TRANSFER_NAME -> Names.transfer(s, from, body.getTransferName());
            default -> throw new IllegalStateException(body.getKindCase().toString());
        };
        return settle(s, from, fee, r);
    }

    /** AuditVerdicts (Audits): the fee is charged when the verdicts are recorded. */
    private static Result audit(LedgerState s, String from, LedgerState.Account sender, BigInteger fee, TxBody body) {
        if (sender.balance().compareTo(fee) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " holds " + sender.balance() + ", the fee is " + fee);
        }
        Result r = Audits.submit(s, from, body.getAuditVerdicts().getPeriod(), body.getAuditVerdicts().getWindow(),
                body.getAuditVerdicts().getVerdictsList());
        return r.ok() ? charge(s, from, sender, fee) : r;
    }

    /** Charges the fee and takes the nonce; the caller has checked that the operation can be done. */
    /** After an operation that may have moved the sender's balance: its fee and nonce, when it succeeded. */
    private static Result settle(LedgerState s, String from, BigInteger fee, Result r) {
        if (r.ok()) {
            LedgerState.Account now = s.account(from);
            s.accounts.put(from, new LedgerState.Account(now.balance().subtract(fee), now.nonce() + 1));
            s.feePool = s.feePool.add(fee);
        }
        return r;
    }

    private static Result charge(LedgerState s, String from, LedgerState.Account sender, BigInteger fee) {
        if (sender.balance().compareTo(fee) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " holds " + sender.balance() + ", the fee is " + fee);
        }
        s.accounts.put(from, new LedgerState.Account(sender.balance().subtract(fee), sender.nonce() + 1));
        s.feePool = s.feePool.add(fee);
        return Result.OK;
    }

    private Result registerCid(LedgerState s, String from, LedgerState.Account sender, BigInteger fee,
                               io.oecloud.chain.pb.ChainProto.RegisterCid r) {
        String cid;
        try {
            cid = io.oecloud.proofs.Cid.fromBytes(r.getCid().toByteArray()).toString();
        } catch (IllegalArgumentException e) {
            return new Result(Code.BAD_CID, "not a CID: " + e.getMessage());
        }
        if (r.getTitle().getBytes(StandardCharsets.UTF_8).length > 256 || r.getLicense().getBytes(StandardCharsets.UTF_8).length > 128) {
            return new Result(Code.MALFORMED, "title is limited to 256 bytes and license to 128");
        }
        LedgerState.CidRecord held = s.cid(cid);
        if (held != null) {
            return new Result(Code.CID_TAKEN, cid + " is registered to " + held.owner() + " since height " + held.sinceHeight());
        }
        Result paid = charge(s, from, sender, fee);
        if (paid.ok()) {
            s.cids.put(cid, new LedgerState.CidRecord(from, s.height, s.timeMillis, r.getTitle(), r.getLicense()));
        }
        return paid;
    }

    private Result transferCid(LedgerState s, String from, LedgerState.Account sender, BigInteger fee,
                               io.oecloud.chain.pb.ChainProto.TransferCid t) {
        String cid;
        try {
            cid = io.oecloud.proofs.Cid.fromBytes(t.getCid().toByteArray()).toString();
            checkAddress(t.getTo());
        } catch (IllegalArgumentException e) {
            return new Result(Code.BAD_CID, "bad CID or receiver: " + e.getMessage());
        }
        LedgerState.CidRecord held = s.cid(cid);
        if (held == null) {
            return new Result(Code.UNKNOWN_CID, cid + " is not registered");
        }
        if (!held.owner().equals(from)) {
            return new Result(Code.NOT_CID_OWNER, cid + " is registered to " + held.owner() + ", not to " + from);
        }
        Result paid = charge(s, from, sender, fee);
        if (paid.ok()) {
            s.cids.put(cid, new LedgerState.CidRecord(t.getTo(), s.height, s.timeMillis, held.title(), held.license()));
        }
        return paid;
    }

    private Result transfer(LedgerState s, String from, LedgerState.Account sender, BigInteger fee, Transfer t) {
        BigInteger amount;
        try {
            amount = Amounts.decode(t.getAmount().toByteArray(), "amount");
            if (amount.signum() == 0) {
                // it would move nothing, yet a fresh receiver would become a permanent account entry
                return new Result(Code.BAD_AMOUNT, "a transfer moves at least 1 base unit (this one moves 0)");
            }
            checkAddress(t.getTo());
        } catch (Amounts.AmountException e) {
            return new Result(Code.BAD_AMOUNT, e.getMessage());
        } catch (IllegalArgumentException e) {
            return new Result(Code.BAD_ADDRESS, "receiver '" + t.getTo() + "' is not an address: " + e.getMessage());
        }
        BigInteger cost;
        try {
            cost = Amounts.add(amount, fee);
        } catch (Amounts.AmountException e) {
            return new Result(Code.BAD_AMOUNT, e.getMessage());
        }
        if (sender.balance().compareTo(cost) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " holds " + sender.balance() + ", needs " + cost + " (amount + fee)");
        }
        // Every check is done: from here on the state changes, and nothing can fail half-way.
        s.accounts.put(from, new LedgerState.Account(sender.balance().subtract(cost), sender.nonce() + 1));
        LedgerState.Account to = s.account(t.getTo());
        s.accounts.put(t.getTo(), new LedgerState.Account(to.balance().add(amount), to.nonce()));
        s.feePool = s.feePool.add(fee);
        return Result.OK;
    }
}
