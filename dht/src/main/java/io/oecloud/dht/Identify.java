package io.oecloud.dht;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.oecloud.dht.pb.IdentifyProto;
import io.oecloud.wire.LengthPrefix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /ipfs/id/1.0.0}: each side asks the other, on every new connection, which protocols it
 * speaks and where it listens. The responder writes one length-prefixed Identify message and
 * half-closes; the asker reads until that FIN (at most {@link #MAX_MESSAGE} bytes a message,
 * {@link #MAX_TOTAL} in all) and checks that the public key matches the peer ID of the connection.
 */
final class Identify {
    static final String PROTOCOL_ID = "/ipfs/id/1.0.0";
    static final String PROTOCOL_VERSION = "ipfs/0.1.0";
    static final int MAX_MESSAGE = 8 * 1024;
    static final int MAX_TOTAL = 64 * 1024;

    private Identify() {}

    /** Answers identify requests for {@code host}. */
    static StreamHandler responder(Host host) {
        return new StreamHandler() {
            @Override
            public void onOpen(P2pStream s) {
                IdentifyProto.Identify.Builder b = IdentifyProto.Identify.newBuilder()
                        .setProtocolVersion(PROTOCOL_VERSION)
                        .setAgentVersion(host.config().agentVersion())
                        .setPublicKey(ByteString.copyFrom(host.identity().publicKeyProto()))
                        .addAllProtocols(host.protocols().stream().sorted().toList());
                for (Multiaddr a : host.listenAddresses()) {
                    b.addListenAddrs(ByteString.copyFrom(a.withoutPeerId().toBytes()));
                }
                if (s.connection().remoteAddress() != null) {
                    b.setObservedAddr(ByteString.copyFrom(Multiaddr.tcp(s.connection().remoteAddress()).toBytes()));
                }
                s.write(LengthPrefix.encode(s.alloc(), b.build().toByteArray()));
                s.closeWrite();
            }

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                data.release(); // nothing is expected from the asker
            }
        };
    }

    /** Asks the peer of {@code stream}'s connection; completes with what it said. */
    static final class Asker implements StreamHandler {
        final CompletableFuture<PeerStore.Identified> result = new CompletableFuture<>();
        private final Host host;
        private final LengthPrefixed framer = new LengthPrefixed(MAX_MESSAGE);
        private final List<byte[]> messages = new ArrayList<>();
        private int total;

        Asker(Host host) {
            this.host = host;
        }

        @Override
        public void onData(P2pStream s, ByteBuf data) {
            total += data.readableBytes();
            try {
                if (total > MAX_TOTAL) {
                    data.release();
                    throw new ProtocolException("identify answer longer than " + MAX_TOTAL + " bytes");
                }
                messages.addAll(framer.feed(s.alloc(), data));
            } catch (ProtocolException e) {
                result.completeExceptionally(e);
                s.reset();
            }
        }

        @Override
        public void onRemoteClose(P2pStream s) {
            try {
                IdentifyProto.Identify.Builder merged = IdentifyProto.Identify.newBuilder();
                for (byte[] m : messages) {
                    merged.mergeFrom(m);
                }
                IdentifyProto.Identify id = merged.build();
                if (id.hasPublicKey() && !Arrays.equals(id.getPublicKey().toByteArray(), s.connection().remotePublicKey())) {
                    throw new ProtocolException("identify's public key does not match peer " + s.remotePeer());
                }
                List<Multiaddr> addrs = new ArrayList<>();
                for (ByteString a : id.getListenAddrsList()) {
                    try {
                        addrs.add(Multiaddr.fromBytes(a.toByteArray()));
                    } catch (IllegalArgumentException e) {
                        // an address kind we do not know: skip it
                    }
                }
                host.peerStore().addAddrs(s.remotePeer(), addrs);
                PeerStore.Identified info = new PeerStore.Identified(
                        List.copyOf(id.getProtocolsList()), id.getAgentVersion(), id.getProtocolVersion());
                host.peerStore().identified(s.remotePeer(), info, PeerStore.reached(s.connection(), addrs));
                result.complete(info);
            } catch (InvalidProtocolBufferException | ProtocolException e) {
                result.completeExceptionally(e);
            } finally {
                framer.release();
                s.closeWrite();
            }
        }

        @Override
        public void onClose(P2pStream s, Throwable error) {
            framer.release();
            if (!result.isDone()) {
                result.completeExceptionally(error != null ? error : new ProtocolException("identify stream closed"));
            }
        }
    }
}
