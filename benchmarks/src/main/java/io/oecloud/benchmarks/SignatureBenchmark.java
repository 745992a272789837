package io.oecloud.benchmarks;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.TxSignatures;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import java.math.BigInteger;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One Ed25519 signature check of a transaction-sized message (172 bytes, a signed transfer), one
 * thread: Bouncy Castle's verify, against OEChain's rule ({@link TxSignatures}: the edge checks in
 * Java, then libsodium where it is installed). 256 different keys and messages in turn, so no
 * cache helps either. And what a client (the chain benchmark's load generator) spends to build
 * and sign one transfer.
 *
 * <p>Run: {@code benchmarks/run.sh sig}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SignatureBenchmark {
    private static final int N = 256;
    private final byte[][] keys = new byte[N][32];
    private final byte[][] messages = new byte[N][172];
    private final byte[][] signatures = new byte[N][64];
    private int next;
    private final Identity sender = Identity.generate();
    private final String receiver = Ledger.address(Identity.generate().publicKey());
    private long nonce;

    @Setup
    public void setup() {
        Random rnd = new Random(1);
        for (int i = 0; i < N; i++) {
            byte[] secret = new byte[32];
            rnd.nextBytes(secret);
            Ed25519.generatePublicKey(secret, 0, keys[i], 0);
            rnd.nextBytes(messages[i]);
            Ed25519.sign(secret, 0, messages[i], 0, messages[i].length, signatures[i], 0);
        }
        System.out.println("TxSignatures backend: " + TxSignatures.backend());
    }

    @Benchmark
    public boolean bouncyCastle() {
        int i = next++ & (N - 1);
        return Ed25519.verify(signatures[i], 0, keys[i], 0, messages[i], 0, messages[i].length);
    }

    @Benchmark
    public boolean txSignatures() {
        int i = next++ & (N - 1);
        return TxSignatures.verify(signatures[i], keys[i], messages[i]);
    }

    @Benchmark
    public byte[] signTransfer() {
        return Ledger.sign(sender, TxBody.newBuilder().setChainId("oechain-bench").setSender(ByteString.copyFrom(sender.publicKey()))
                .setNonce(nonce++).setFee(ByteString.copyFrom(Amounts.encode(BigInteger.valueOf(1000))))
                .setTransfer(Transfer.newBuilder().setTo(receiver).setAmount(ByteString.copyFrom(Amounts.encode(BigInteger.ONE)))).build());
    }
}
