package io.oecloud.dht;

import io.netty.buffer.ByteBuf;

/** Yamux framing (hashicorp/yamux spec.md, as libp2p uses it): a 12-byte header before each frame. */
final class Yamux {
    static final String PROTOCOL_ID = "/yamux/1.0.0";
    static final int HEADER = 12;

    static final int TYPE_DATA = 0;
    static final int TYPE_WINDOW_UPDATE = 1;
    static final int TYPE_PING = 2;
    static final int TYPE_GO_AWAY = 3;

    static final int SYN = 1;
    static final int ACK = 2;
    static final int FIN = 4;
    static final int RST = 8;

    /** Every stream starts with this much credit in each direction. */
    static final int INITIAL_WINDOW = 256 * 1024;
    /** A busy stream's receive window doubles up to this (go-yamux grows to 16 MiB too). */
    static final int MAX_WINDOW = 16 * 1024 * 1024;
    /** Receive windows of one connection together never exceed this. */
    static final long MAX_CONNECTION_WINDOW = 64L * 1024 * 1024;

    static final int GO_AWAY_NORMAL = 0;
    static final int GO_AWAY_PROTOCOL_ERROR = 1;
    static final int GO_AWAY_INTERNAL_ERROR = 2;

    private Yamux() {}

    static void writeHeader(ByteBuf out, int type, int flags, int streamId, int length) {
        out.writeByte(0).writeByte(type).writeShort(flags).writeInt(streamId).writeInt(length);
    }
}
