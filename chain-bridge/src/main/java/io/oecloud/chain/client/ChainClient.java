package io.oecloud.chain.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.netty.handler.codec.http.HttpMethod;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.http.HttpCaller;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * How a program that holds a key but is not a super-node acts on the chain: a storage node that
 * registers and proves, later a gateway that pays. Reads go to a super-node's CometBFT RPC
 * ({@code abci_query}; unverified: the light client checks what must not be taken on trust),
 * transactions to a super-node's mempool endpoint ({@code POST /v1/chain/txs?wait=commit}), which
 * gossips them to the others. With several endpoints of a kind, one that cannot be reached is
 * passed over for the next; one that answers is believed only as far as the chain's own rules
 * go (a wrong nonce or chain ID only gets the transaction refused).
 *
 * <p>Submissions are serialized per client: each takes the account's nonce from the chain after
 * the previous one committed, so one key used by one client never races itself. Every call has
 * {@code deadlineMillis}; waiting for a block is the mempool endpoint's (it answers 504 after
 * its own wait).
 */
public final class ChainClient implements AutoCloseable {
    /** Where a chain is reached: CometBFT RPC addresses for reads, mempool endpoints for transactions. */
    public record Endpoints(List<InetSocketAddress> rpc, List<InetSocketAddress> mempool) {
        public Endpoints {
            rpc = List.copyOf(rpc);
            mempool = List.copyOf(mempool);
            if (rpc.isEmpty() || mempool.isEmpty()) {
                throw new IllegalArgumentException("a chain client needs at least one RPC address and one mempool endpoint, was given "
                        + rpc.size() + " and " + mempool.size());
            }
        }
    }

    /** An account as the chain holds it. */
    public record Account(String address, BigInteger balance, long nonce) {}

    /** The chain answered a transaction with a refusal or could not say whether it committed. */
    public static final class Refused extends IOException {
        private final int status;
        private final int code;

        public Refused(int status, int code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }

        /** The ledger's code ({@code Ledger.Code}) when the ledger refused it, else -1. */
        public int code() {
            return code;
        }

        /** The mempool endpoint's HTTP status: 422 refused by the ledger, 503 full or busy, 504 not committed in time. */
        public int status() {
            return status;
        }
    }

    private static final int MAX_ANSWER = 1 << 20;

    private final Identity key;
    private final String address;
    private final List<CometRpc> rpcs = new ArrayList<>();
    private final List<HttpCaller> mempools = new ArrayList<>();
    private final long deadlineMillis;
    private int preferredRpc; // guarded by this: the last one that answered
    private int preferredMempool; // guarded by this
    private long nextNonce = -1; // guarded by this: the nonce after the last transaction a mempool admitted from here

    public ChainClient(Endpoints endpoints, Identity key, long deadlineMillis) {
        this.key = key;
        this.address = Ledger.address(key.publicKey());
        this.deadlineMillis = deadlineMillis;
        for (InetSocketAddress a : endpoints.rpc()) {
            rpcs.add(new CometRpc(a, deadlineMillis));
        }
        for (InetSocketAddress a : endpoints.mempool()) {
            // the endpoint waits up to its own commit deadline before it answers ?wait=commit
            mempools.add(new HttpCaller(a, "the mempool endpoint " + a.getHostString() + ":" + a.getPort(),
                    deadlineMillis + TimeUnit.SECONDS.toMillis(30), MAX_ANSWER));
        }
    }

    /** This client's account: the key's peer ID. */
    public String address() {
        return address;
    }

    /** The account as the chain holds it now (balance 0 and nonce 0 for one it has never seen). */
    public Account account() throws IOException {
        JsonNode a = read(rpc -> rpc.query("/account", address).join(), "the account " + address);
        if (a == null) {
            return new Account(address, BigInteger.ZERO, 0);
        }
        return new Account(address, new BigInteger(a.path("balance").asText("0")), a.path("nonce").asLong());
    }

    /** A period's storage price: base units per GiB per period, and whether it is the genesis default (no node has an ask). */
    public record Price(long period, BigInteger price, boolean isDefault) {}

    /** A holder of a contract: its bytes and its share of the cost per period. */
    public record Holder(String holder, long bytes, BigInteger share) {}

    /** Paid periods [start, end) at {@code cost} base units a period. */
    public record Term(long start, long end, BigInteger cost) {}

    /** A storage contract as the chain holds it ({@code escrow}: what it still holds for the periods not settled). */
    public record Contract(String object, String payer, long bytes, long start, long end, BigInteger costPerPeriod, BigInteger escrow,
                           List<Holder> holders, List<Term> terms) {}

    /** A page of contracts; {@code next} is the cursor of the following page ("" on the last). */
    public record ContractPage(List<Contract> contracts, String next) {}

    /** A settled period of a node: what it was due and whether it was paid (else the fee pool took it). */
    public record Payment(long period, BigInteger amount, boolean paid) {}

    /** A storage node's rate now and its recent payments, newest first. */
    public record Payments(String node, BigInteger rate, BigInteger earned, List<Payment> payments) {}

    /** The storage price of the current period. */
    public Price price() throws IOException {
        JsonNode p = read(rpc -> rpc.query("/price", "").join(), "the storage price");
        if (p == null) {
            throw new IOException("the chain's RPC did not answer the storage price (abci_query /price)");
        }
        return new Price(p.path("period").asLong(), new BigInteger(p.path("price").asText("0")), p.path("default").asBoolean());
    }

    /** The contract of {@code cid} (text form) paid by {@code payer}, or null when there is none. */
    public Contract contract(String cid, String payer) throws IOException {
        JsonNode c = read(rpc -> rpc.query("/contract", cid + "/" + payer).join(), "the contract of " + cid);
        return c == null ? null : contract(c);
    }

    /** A page of the contracts {@code payer} pays; {@code cursor} "" or the last page's {@code next}. */
    public ContractPage contractsPaid(String payer, String cursor) throws IOException {
        return page("/contracts-paid", payer, cursor);
    }

    /** A page of the contracts {@code node} holds; {@code cursor} "" or the last page's {@code next}. */
    public ContractPage contractsHeld(String node, String cursor) throws IOException {
        return page("/contracts-held", node, cursor);
    }

    private ContractPage page(String path, String who, String cursor) throws IOException {
        String data = cursor.isEmpty() ? who : who + "/" + cursor;
        JsonNode p = read(rpc -> rpc.query(path, data).join(), "the contracts of " + who);
        if (p == null) {
            throw new IOException("the chain's RPC did not answer " + path + " for " + who);
        }
        List<Contract> l = new ArrayList<>();
        for (JsonNode c : p.path("contracts")) {
            l.add(contract(c));
        }
        return new ContractPage(List.copyOf(l), p.path("next").asText(""));
    }

    static Contract contract(JsonNode c) {
        List<Holder> holders = new ArrayList<>();
        for (JsonNode h : c.path("holders")) {
            holders.add(new Holder(h.path("holder").asText(), h.path("bytes").asLong(), new BigInteger(h.path("share").asText("0"))));
        }
        List<Term> terms = new ArrayList<>();
        for (JsonNode t : c.path("terms")) {
            terms.add(new Term(t.path("start").asLong(), t.path("end").asLong(), new BigInteger(t.path("cost").asText("0"))));
        }
        return new Contract(c.path("object").asText(), c.path("payer").asText(), c.path("bytes").asLong(), c.path("start").asLong(),
                c.path("end").asLong(), new BigInteger(c.path("costPerPeriod").asText("0")), new BigInteger(c.path("escrow").asText("0")),
                List.copyOf(holders), List.copyOf(terms));
    }

    /** {@code node}'s rate and recent payments. */
    public Payments payments(String node) throws IOException {
        JsonNode p = read(rpc -> rpc.query("/payments", node).join(), "the payments of " + node);
        if (p == null) {
            throw new IOException("the chain's RPC did not answer the payments of " + node);
        }
        List<Payment> l = new ArrayList<>();
        for (JsonNode x : p.path("payments")) {
            l.add(new Payment(x.path("period").asLong(), new BigInteger(x.path("amount").asText("0")), x.path("paid").asBoolean()));
        }
        return new Payments(node, new BigInteger(p.path("rate").asText("0")), new BigInteger(p.path("earned").asText("0")), List.copyOf(l));
    }

    /** The passes held in storage contracts' escrow. */
    public BigInteger escrowPool() throws IOException {
        JsonNode p = read(rpc -> rpc.query("/escrow", "").join(), "the escrow pool");
        if (p == null) {
            throw new IOException("the chain's RPC did not answer the escrow pool (abci_query /escrow)");
        }
        return new BigInteger(p.path("pool").asText("0"));
    }

    /**
     * A holder's receipt for {@code bytes} bytes in {@code blocks} blocks of {@code object} (binary
     * CID) paid by {@code payer}, {@code entriesRoot} the NodeRoot over those blocks' sorted (CID,
     * size) entries (32 bytes), signed in {@code period} by {@code holder}'s key over
     * {@link io.oecloud.chain.ledger.Contracts#receiptMessage}.
     */
    public static ChainProto.Receipt receipt(Identity holder, String chainId, byte[] object, String payer, long bytes, int blocks,
                                             byte[] entriesRoot, long period) {
        String h = Ledger.address(holder.publicKey());
        byte[] sig = holder.sign(io.oecloud.chain.ledger.Contracts.receiptMessage(chainId, object, payer, h, bytes, blocks, entriesRoot, period));
        return ChainProto.Receipt.newBuilder().setHolder(h).setBytes(bytes).setBlocks(blocks).setEntriesRoot(ByteString.copyFrom(entriesRoot))
                .setPeriod(period).setSignature(ByteString.copyFrom(sig)).build();
    }

    /**
     * {@code node}'s contract picks for {@code period} as the chain fixed them at its window's seed
     * (the {@code /storage-node} query's root of that period, {@code contractPicks}): empty before
     * the seed, or when it has none. What the SubmitProof completing the window answers.
     */
    public List<io.oecloud.chain.ledger.Storage.ContractPick> contractPicks(String node, long period) throws IOException {
        JsonNode n = read(rpc -> rpc.query("/storage-node", node).join(), "the storage node " + node);
        return n == null ? List.of() : ChainViews.contractPicks(n, period);
    }

    private static ByteString amount(BigInteger a) {
        return a == null ? ByteString.EMPTY : ByteString.copyFrom(Amounts.encode(a));
    }

    /** RegisterStorageNode: capacity, collateral added (0 for none), and the ask (null keeps the one it has). */
    public static TxBody.Builder registerStorageNodeTx(long capacity, BigInteger collateral, BigInteger ask) {
        return TxBody.newBuilder().setRegisterStorageNode(ChainProto.RegisterStorageNode.newBuilder().setCapacity(capacity)
                .setCollateral(amount(collateral.signum() == 0 ? null : collateral)).setAsk(amount(ask)));
    }

    /** CreateContract of {@code object} (binary CID) for {@code periods} periods with the holders' receipts; {@code maxPrice} null: any. */
    public static TxBody.Builder createContractTx(byte[] object, int periods, List<ChainProto.Receipt> receipts, BigInteger maxPrice) {
        return TxBody.newBuilder().setCreateContract(ChainProto.CreateContract.newBuilder().setObject(ByteString.copyFrom(object))
                .setPeriods(periods).addAllReceipts(receipts).setMaxPrice(amount(maxPrice)));
    }

    /** RenewContract: {@code periods} more after its end at the current price; {@code maxPrice} null: any. */
    public static TxBody.Builder renewContractTx(byte[] object, int periods, BigInteger maxPrice) {
        return TxBody.newBuilder().setRenewContract(ChainProto.RenewContract.newBuilder().setObject(ByteString.copyFrom(object))
                .setPeriods(periods).setMaxPrice(amount(maxPrice)));
    }

    /** EndContract: the escrow of every period after the current one returns to the payer. */
    public static TxBody.Builder endContractTx(byte[] object) {
        return TxBody.newBuilder().setEndContract(ChainProto.EndContract.newBuilder().setObject(ByteString.copyFrom(object)));
    }

    /** MoveShares: holders removed and receipts of new (or changed) holders, from the next period on. */
    public static TxBody.Builder moveSharesTx(byte[] object, List<String> remove, List<ChainProto.Receipt> receipts) {
        return TxBody.newBuilder().setMoveShares(ChainProto.MoveShares.newBuilder().setObject(ByteString.copyFrom(object))
                .addAllRemove(remove).addAllReceipts(receipts));
    }

    /** RegisterName: {@code name} (see {@link io.oecloud.chain.ledger.Names#problem}) pointing at {@code root}; pays names.registerFee. */
    public static TxBody.Builder registerNameTx(String name, io.oecloud.proofs.Cid root) {
        return TxBody.newBuilder().setRegisterName(ChainProto.RegisterName.newBuilder().setName(name)
                .setRoot(ByteString.copyFrom(root.toBytes())));
    }

    /** UpdateName: the owner points {@code name} at {@code root}. */
    public static TxBody.Builder updateNameTx(String name, io.oecloud.proofs.Cid root) {
        return TxBody.newBuilder().setUpdateName(ChainProto.UpdateName.newBuilder().setName(name).setRoot(ByteString.copyFrom(root.toBytes())));
    }

    /** TransferName: the owner gives {@code name} to the address {@code to}. */
    public static TxBody.Builder transferNameTx(String name, String to) {
        return TxBody.newBuilder().setTransferName(ChainProto.TransferName.newBuilder().setName(name).setTo(to));
    }

    /** Registers {@code name} to this client's account, pointing at {@code root}, waiting for the block. */
    public JsonNode registerName(String name, io.oecloud.proofs.Cid root) throws IOException {
        return submit(registerNameTx(name, root));
    }

    /** Points this client's {@code name} at {@code root}, waiting for the block. */
    public JsonNode updateName(String name, io.oecloud.proofs.Cid root) throws IOException {
        return submit(updateNameTx(name, root));
    }

    /** Gives this client's {@code name} to {@code to}, waiting for the block. */
    public JsonNode transferName(String name, String to) throws IOException {
        return submit(transferNameTx(name, to));
    }

    /** Registers this client's account as a storage node (or changes its capacity, collateral or ask), waiting for the block. */
    public JsonNode registerStorageNode(long capacity, BigInteger collateral, BigInteger ask) throws IOException {
        return submit(registerStorageNodeTx(capacity, collateral, ask));
    }

    /** Buys storage of {@code object} (this client's account pays), waiting for the block. */
    public JsonNode createContract(byte[] object, int periods, List<ChainProto.Receipt> receipts, BigInteger maxPrice) throws IOException {
        return submit(createContractTx(object, periods, receipts, maxPrice));
    }

    public JsonNode renewContract(byte[] object, int periods, BigInteger maxPrice) throws IOException {
        return submit(renewContractTx(object, periods, maxPrice));
    }

    public JsonNode endContract(byte[] object) throws IOException {
        return submit(endContractTx(object));
    }

    public JsonNode moveShares(byte[] object, List<String> remove, List<ChainProto.Receipt> receipts) throws IOException {
        return submit(moveSharesTx(object, remove, receipts));
    }

    /** The chain's ID, from CometBFT's status. */
    public String chainId() throws IOException {
        String id = read(rpc -> rpc.get("/status").join().at("/result/node_info/network").asText(""), "the chain's status");
        if (id.isEmpty()) {
            throw new IOException("the chain's RPC answered a status without a chain ID (result.node_info.network)");
        }
        return id;
    }

    /** What transactions must pay, from the ledger's parameters. */
    public Fees fees() throws IOException {
        JsonNode p = read(rpc -> rpc.query("/params", "").join(), "the chain's parameters");
        if (p == null) {
            throw new IOException("the chain's RPC did not answer the ledger's parameters (abci_query /params)");
        }
        return new Fees(new BigInteger(p.path("minFee").asText("0")), new BigInteger(p.path("feePerByte").asText("0")));
    }

    /**
     * Signs {@code body} as this client's account (chain ID, nonce and the fee the chain asks for
     * its size filled in) and submits it, waiting for its block.
     *
     * @return the endpoint's answer: hash, code 0, log, height
     * @throws Refused when the ledger refused it, the pool was full, or no block took it in time
     * @throws IOException when no endpoint could be reached
     */
    public JsonNode submit(TxBody.Builder body) throws IOException {
        return submit(body, true);
    }

    /**
     * As {@link #submit(TxBody.Builder)}, but answered once the mempool admitted the transaction
     * (checked against the committed state and what the mempool admitted before it: nonce,
     * balance, the operation's rules), without waiting for its block.
     *
     * @return the endpoint's answer: hash, code 0, log (no height)
     */
    public JsonNode submitAdmitted(TxBody.Builder body) throws IOException {
        return submit(body, false);
    }

    private synchronized JsonNode submit(TxBody.Builder body, boolean waitCommit) throws IOException {
        long committed = account().nonce();
        // a transaction admitted but not yet in a block has taken the committed nonce already
        long nonce = Math.max(committed, nextNonce);
        try {
            JsonNode answer = post(body, nonce, waitCommit);
            nextNonce = nonce + 1;
            return answer;
        } catch (Refused e) {
            if (e.code() != Ledger.Code.BAD_NONCE.value() || nonce == committed) {
                throw e;
            }
            // what was admitted after the committed nonce left the mempool without a block (dropped
            // for better-paying ones, or the node restarted): from the committed nonce again, once
            nextNonce = -1;
            JsonNode answer = post(body, committed, waitCommit);
            nextNonce = committed + 1;
            return answer;
        }
    }

    /** Signs {@code body} with {@code nonce} and posts it to the mempool endpoints in turn. */
    private JsonNode post(TxBody.Builder body, long nonce, boolean waitCommit) throws IOException {
        byte[] tx = sign(key, body, chainId(), nonce, fees(), null);
        String path = waitCommit ? "/v1/chain/txs?wait=commit" : "/v1/chain/txs";
        IOException last = null;
        for (int i = 0; i < mempools.size(); i++) {
            int at = (preferredMempool + i) % mempools.size();
            HttpCaller.Answer a;
            try {
                a = wait(mempools.get(at).call(HttpMethod.POST, path, tx, "application/octet-stream"),
                        deadlineMillis + (waitCommit ? TimeUnit.SECONDS.toMillis(30) : 0));
            } catch (IOException e) {
                last = e; // unreachable or no answer in time: the next endpoint
                continue;
            }
            preferredMempool = at;
            JsonNode doc = a.json();
            if (a.status() == 200) {
                return doc;
            }
            throw new Refused(a.status(), doc.path("code").asInt(-1), "the chain refused the " + body.getKindCase() + " transaction (HTTP "
                    + a.status() + "): " + doc.path("log").asText(doc.path("error").asText("no reason given")));
        }
        throw new IOException("no mempool endpoint could be reached (" + mempools.size() + " tried): "
                + (last == null ? "none configured" : last.getMessage()), last);
    }

    /**
     * {@code body} filled in and signed: chain ID, sender, nonce, and {@code fee} or, when null,
     * what {@code fees} asks for the signed size (refused when a given fee is below that: the
     * message starts with the fee, "N is below the R base units ...", for the caller to name it).
     */
    public static byte[] sign(Identity key, TxBody.Builder body, String chainId, long nonce, Fees fees, BigInteger fee) throws IOException {
        body.setChainId(chainId).setSender(ByteString.copyFrom(key.publicKey())).setNonce(nonce)
                .setFee(ByteString.copyFrom(Amounts.encode(fee == null ? BigInteger.ZERO : fee)));
        byte[] tx = fees.sign(key, body);
        if (fee != null && fee.compareTo(fees.required(tx.length)) < 0) {
            throw new IOException(fee + " is below the " + fees.required(tx.length) + " base units this transaction must pay ("
                    + fees.minimum() + " + " + fees.perByte() + " per byte x " + tx.length + " bytes)");
        }
        return tx;
    }

    private synchronized <T> T read(Function<CometRpc, T> call, String what) throws IOException {
        RuntimeException last = null;
        for (int i = 0; i < rpcs.size(); i++) {
            int at = (preferredRpc + i) % rpcs.size();
            try {
                T t = call.apply(rpcs.get(at));
                preferredRpc = at;
                return t;
            } catch (RuntimeException e) { // CompletionException from join: unreachable, late or malformed
                last = e;
            }
        }
        Throwable cause = last != null && last.getCause() != null ? last.getCause() : last;
        throw new IOException("could not read " + what + " from any of " + rpcs.size() + " chain RPC addresses: "
                + (cause == null ? "none configured" : cause.getMessage()), cause);
    }

    private static HttpCaller.Answer wait(java.util.concurrent.CompletableFuture<HttpCaller.Answer> f, long millis) throws IOException {
        try {
            return f.get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("no answer within " + millis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public void close() {
        rpcs.forEach(CometRpc::close);
        mempools.forEach(HttpCaller::close);
    }
}
