package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Every check a manifest passes before this node acts on it: downloads, directory walks, {@code oe
 * ls}, repair and every copy go through {@link #parse}, and the shard server refuses an incoming
 * manifest block for which {@link #problem} names a problem. A manifest is bytes from anyone: the
 * CID only proves that these are the bytes asked for, not that they make sense, and one with
 * {@code k = 2^31 - 1} (a uint32 read as an int) made a repair pass allocate arrays of two billion
 * entries, die with OutOfMemoryError and, before that, copy the poison to two more nodes.
 *
 * <p>In order, cheapest first:
 * <ol>
 *   <li><b>Wire shape</b>, scanned before protobuf-java builds anything: no groups, at most
 *       {@value #MAX_UNKNOWN_FIELDS} unknown fields in all, at most {@value #MAX_HOLDERS} holders a
 *       shard, {@value ReedSolomon#MAX_TOTAL_SHARDS} shards a segment and
 *       {@value ObjectStore#MAX_ENTRIES} directory entries, and every segment, shard, holder and
 *       entry at least as long as the CID or peer ID it must hold. Without it a 32 MiB block of
 *       two-byte empty elements parses into 16 million objects (over a GiB of heap); with it the
 *       parsed message costs a few times its bytes at most.</li>
 *   <li><b>Canonical encoding</b>: the bytes are exactly what protobuf-java writes for the message
 *       they parse to (known fields once each, in field-number order, proto3 defaults omitted,
 *       minimal lengths, unknown fields last). So the bytes the owner signed (the same message
 *       without its signature, re-serialised) follow from the bytes received, and nobody but its
 *       owner can give a signed manifest a second CID (Bouncy Castle refuses non-canonical
 *       signatures, so the signature cannot be re-encoded either).</li>
 *   <li><b>Structure</b> ({@link #check}): every integer read unsigned and range-checked before any
 *       arithmetic; RS(k, m) with 1 &lt;= k and k + m &lt;= 256; 1 &lt;= segment size &lt;= 64 MiB
 *       and &gt;= k; segment count = ceil(size / segment size) (one empty segment for an empty
 *       encrypted object), every segment but the last exactly segment-size bytes and the sizes
 *       summing to the object's; k + m shards a segment, each at most {@link ShardServer#MAX_SHARD}
 *       bytes and the segment's coded bytes at most {@value #MAX_CODED_SEGMENT} bytes; inline bytes
 *       exactly the size and never with segments or encryption; raw BLAKE3 CIDs for shards and
 *       segment keys, manifest-codec BLAKE3 CIDs for directory entries; holders that parse as peer
 *       IDs; a directory's entries with valid names, sorted by their UTF-8 bytes, unique, sizes
 *       summing to the directory's, and no segments, inline bytes, encryption or RS parameters; a
 *       file with no entries; AES-256-GCM with a 48-byte wrapped key and a 12-byte nonce; an owner
 *       of 32 bytes; content types of at most {@value #MAX_CONTENT_TYPE} visible ASCII
 *       characters.</li>
 *   <li><b>Owner signature</b>: Ed25519 by {@code owner} over {@code "oe-manifest:"} followed by
 *       the canonical bytes of the manifest without its signature. Manifests from before
 *       signatures carry none: {@link Checked#signed()} says so, and callers decide (they download
 *       by CID; they are never copied, listed, or stored from a peer).</li>
 * </ol>
 * Failures are {@link ObjectException.Code#CORRUPT} with a message naming the field and its value.
 */
public final class Manifests {
    /** Prefix of the bytes an owner signs, so a manifest signature is never valid for anything else. */
    static final byte[] SIGNATURE_DOMAIN = "oe-manifest:".getBytes(StandardCharsets.US_ASCII);
    /** Largest segment size a node accepts (the same bound as {@link ObjectService.Config}). */
    public static final int MAX_SEGMENT_SIZE = 64 << 20;
    /**
     * Coded bytes of one segment at most (k + m shards of ceil(size / k) bytes): 64 MiB segments
     * at RS(4, 2) need 96 MiB. Bounds what a download or repair allocates for a segment: without
     * it RS(2, 254) with 64 MiB segments asks for 8 GiB.
     */
    public static final long MAX_CODED_SEGMENT = 128L << 20;
    /** Holders listed for one shard at most (an upload records one, long-tail copies may add a few). */
    public static final int MAX_HOLDERS = 16;
    /** Unknown fields (from a newer version) a manifest may carry, in all its messages together. */
    public static final int MAX_UNKNOWN_FIELDS = 64;
    /** Characters of a content type at most. */
    public static final int MAX_CONTENT_TYPE = 255;
    static final int OWNER_BYTES = 32;
    static final int SIGNATURE_BYTES = 64;
    static final int WRAPPED_KEY_BYTES = 32 + SegmentCipher.TAG;
    static final int WRAP_NONCE_BYTES = 12;
    /** A BLAKE3 CID: version, codec (1 byte raw, 3 bytes manifest), function, length, 32 bytes. */
    private static final int RAW_CID_BYTES = 36;
    /** The shortest real peer ID: a sha2-256 multihash (Ed25519 IDs inline the key in 38 bytes). */
    private static final int MIN_PEER_ID_BYTES = 34;

    private Manifests() {}

    /** A manifest that passed every check, and whether it carries its owner's valid signature. */
    public record Checked(Manifest manifest, boolean signed) {}

    /**
     * Why these bytes must not be stored as a manifest block, or null when they may: every check of
     * {@link #parse}, and the owner's signature is required. For the shard server, before it stores
     * a block of codec oe-manifest from a peer.
     */
    public static String problem(byte[] bytes) {
        try {
            return parse(bytes).signed() ? null : "manifest carries no owner signature";
        } catch (ObjectException e) {
            return e.getMessage();
        }
    }

    /** {@link #problem(byte[])} of the buffer's remaining bytes (copied; the buffer is not moved). */
    public static String problem(java.nio.ByteBuffer block) {
        byte[] bytes = new byte[block.remaining()];
        block.duplicate().get(bytes);
        return problem(bytes);
    }

    /**
     * Parses and checks a manifest block (wire shape, canonical encoding, structure, and the
     * signature when there is one).
     *
     * @throws ObjectException CORRUPT naming what is wrong
     */
    public static Checked parse(byte[] bytes) throws ObjectException {
        return parse(bytes, true);
    }

    /**
     * {@link #problem(byte[])} of a block this process has just signed ({@link #sign}): every check
     * a receiver makes but the signature's, which cannot fail (an Ed25519 verify was 12% of a
     * small-object upload's CPU on the uploading node).
     */
    static String problemOfOwn(byte[] bytes) {
        try {
            return parse(bytes, false).signed() ? null : "manifest carries no owner signature";
        } catch (ObjectException e) {
            return e.getMessage();
        }
    }

    private static Checked parse(byte[] bytes, boolean verify) throws ObjectException {
        scanShape(bytes);
        Manifest m;
        try {
            m = Manifest.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw corrupt("is not a well-formed manifest protobuf");
        }
        if (!Arrays.equals(m.toByteArray(), bytes)) {
            throw corrupt("is not canonically encoded (fields out of order or repeated, default values written, "
                    + "or lengths not minimal)");
        }
        check(m);
        ByteString sig = m.getSignature();
        if (sig.isEmpty()) {
            return new Checked(m, false);
        }
        if (sig.size() != SIGNATURE_BYTES) {
            throw corrupt("signature is " + sig.size() + " bytes; Ed25519 signatures are " + SIGNATURE_BYTES);
        }
        if (verify) {
            byte[] signed = signedBytes(m);
            if (!Ed25519.verify(sig.toByteArray(), 0, m.getOwner().toByteArray(), 0, signed, 0, signed.length)) {
                throw corrupt("signature does not verify against its owner key");
            }
        }
        return new Checked(m, true);
    }

    /** The manifest's block: {@code unsigned} with {@code owner}'s signature added (its owner field must be owner's key). */
    static byte[] sign(Manifest unsigned, Identity owner) {
        Manifest m = unsigned.toBuilder().clearSignature().build();
        return m.toBuilder().setSignature(ByteString.copyFrom(owner.sign(signedBytes(m)))).build().toByteArray();
    }

    private static byte[] signedBytes(Manifest m) {
        byte[] body = m.toBuilder().clearSignature().build().toByteArray();
        byte[] out = Arrays.copyOf(SIGNATURE_DOMAIN, SIGNATURE_DOMAIN.length + body.length);
        System.arraycopy(body, 0, out, SIGNATURE_DOMAIN.length, body.length);
        return out;
    }

    /**
     * The bytes of {@code m}'s block once signed ({@link #sign}): its fields without the signature,
     * then the 64-byte signature as field 12, as protobuf writes them.
     */
    public static int signedSize(Manifest m) {
        return m.toBuilder().clearSignature().build().getSerializedSize()
                + com.google.protobuf.CodedOutputStream.computeBytesSize(Manifest.SIGNATURE_FIELD_NUMBER, ByteString.copyFrom(new byte[SIGNATURE_BYTES]));
    }

    /**
     * The blocks of object {@code object} with their sizes, in the order a holder's receipt maps
     * them: its manifest (signed), then every segment's shards (data, then parity), repeats
     * skipped. For a manifest that passed {@link #check} (or that this node made).
     */
    public static java.util.List<io.oecloud.proofs.storage.NodeEntry> blockEntries(Cid object, Manifest m) {
        java.util.LinkedHashMap<Cid, io.oecloud.proofs.storage.NodeEntry> out = new java.util.LinkedHashMap<>();
        out.put(object, new io.oecloud.proofs.storage.NodeEntry(object, signedSize(m)));
        for (Segment seg : m.getSegmentsList()) {
            long size = shardSize(m, seg);
            for (Shard sh : seg.getShardsList()) {
                Cid c = Cid.fromBytes(sh.getCid().toByteArray());
                out.putIfAbsent(c, new io.oecloud.proofs.storage.NodeEntry(c, size));
            }
        }
        return new java.util.ArrayList<>(out.values());
    }

    /** Bytes of each shard of {@code seg}: ceil(coded bytes / k). Only for a manifest that passed {@link #check}. */
    static int shardSize(Manifest m, Segment seg) {
        return Math.toIntExact(Math.ceilDiv(codedSize(m, seg), m.getK()));
    }

    /** Bytes that were erasure-coded for a segment: its object bytes, plus the GCM tag when encrypted. */
    private static long codedSize(Manifest m, Segment seg) {
        return seg.getSize() + (m.hasEncryption() ? SegmentCipher.TAG : 0);
    }

    /**
     * Heap one segment with these parameters takes while coded or decoded: the segment, a copy,
     * and its k + m shards (as {@code MemoryBudget.forHeap} counts a slot, plus a GCM tag).
     */
    static long segmentMemory(long segmentSize, int k, int m) {
        return 2 * segmentSize + (long) (k + m) * Math.ceilDiv(segmentSize + SegmentCipher.TAG, k);
    }

    /** {@link #segmentMemory(long, int, int)} of a checked file manifest's segments. */
    static long segmentMemory(Manifest m) {
        return segmentMemory(m.getSegmentSize(), m.getK(), m.getM());
    }

    /**
     * Checks the structure of a parsed manifest (everything but encoding and signature).
     *
     * @throws ObjectException CORRUPT naming the field and its value
     */
    public static void check(Manifest m) throws ObjectException {
        if (m.getSize() < 0) {
            throw corrupt("size " + Long.toUnsignedString(m.getSize()) + " is over 2^63 - 1");
        }
        if (m.getOwner().size() != OWNER_BYTES) {
            throw corrupt("owner is " + m.getOwner().size() + " bytes; an Ed25519 key is " + OWNER_BYTES);
        }
        checkContentType(m.getContentType(), "content type");
        switch (m.getKind()) {
            case FILE -> checkFile(m);
            case DIRECTORY -> checkDirectory(m);
            default -> throw corrupt("kind " + m.getKindValue() + " is neither FILE (0) nor DIRECTORY (1)");
        }
    }

    /** What is wrong with a content type as a manifest records it (and an HTTP header carries it), or null. */
    public static String contentTypeProblem(String type) {
        if (type.length() > MAX_CONTENT_TYPE) {
            return "is " + type.length() + " characters, over " + MAX_CONTENT_TYPE;
        }
        for (int i = 0; i < type.length(); i++) {
            char c = type.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return "has character U+" + String.format("%04X", (int) c) + " at " + i
                        + "; only visible ASCII and spaces are allowed";
            }
        }
        return null;
    }

    private static void checkContentType(String type, String what) throws ObjectException {
        String problem = contentTypeProblem(type);
        if (problem != null) {
            throw corrupt(what + " " + problem);
        }
    }

    private static void checkFile(Manifest m) throws ObjectException {
        long k = Integer.toUnsignedLong(m.getK());
        long parity = Integer.toUnsignedLong(m.getM());
        if (k < 1 || k + parity > ReedSolomon.MAX_TOTAL_SHARDS) {
            throw corrupt("RS(" + k + ", " + parity + ") is out of range: 1 <= k and k + m <= " + ReedSolomon.MAX_TOTAL_SHARDS);
        }
        long segmentSize = Integer.toUnsignedLong(m.getSegmentSize());
        if (segmentSize < k || segmentSize > MAX_SEGMENT_SIZE) {
            throw corrupt("segment size " + segmentSize + " is outside k (" + k + ") to " + MAX_SEGMENT_SIZE);
        }
        if (m.getEntriesCount() > 0) {
            throw corrupt("is a file with " + m.getEntriesCount() + " directory entries");
        }
        boolean encrypted = m.hasEncryption();
        if (encrypted) {
            Encryption e = m.getEncryption();
            if (!SegmentCipher.ALGORITHM.equals(e.getAlgorithm())) {
                throw corrupt("encryption algorithm '" + e.getAlgorithm() + "' is unknown; only " + SegmentCipher.ALGORITHM);
            }
            if (e.getWrappedKey().size() != WRAPPED_KEY_BYTES || e.getWrapNonce().size() != WRAP_NONCE_BYTES) {
                throw corrupt("wrapped key of " + e.getWrappedKey().size() + " bytes and nonce of " + e.getWrapNonce().size()
                        + " bytes; AES-256-GCM needs " + WRAPPED_KEY_BYTES + " and " + WRAP_NONCE_BYTES);
            }
        }
        long size = m.getSize();
        if (!m.getInlineData().isEmpty()) {
            if (m.getSegmentsCount() > 0) {
                throw corrupt("has inline bytes and also " + m.getSegmentsCount() + " segments");
            }
            long inline = size + (encrypted ? SegmentCipher.TAG : 0); // encrypted: sealed as segment 0, with its tag
            if (m.getInlineData().size() != inline) {
                throw corrupt("inline bytes are " + m.getInlineData().size() + ", its size says " + inline);
            }
            return;
        }
        long segments = size == 0 ? (encrypted ? 1 : 0) : Math.ceilDiv(size, segmentSize);
        if (m.getSegmentsCount() != segments) {
            throw corrupt("has " + m.getSegmentsCount() + " segments; " + size + " bytes in segments of " + segmentSize
                    + " make " + segments);
        }
        long coded = (k + parity) * Math.ceilDiv(segmentSize + (encrypted ? SegmentCipher.TAG : 0), k);
        if (segments > 0 && coded > MAX_CODED_SEGMENT) {
            throw corrupt("segments of " + segmentSize + " bytes at RS(" + k + ", " + parity + ") code to " + coded
                    + " bytes each, over " + MAX_CODED_SEGMENT);
        }
        for (int i = 0; i < m.getSegmentsCount(); i++) {
            Segment seg = m.getSegments(i);
            long expected = Math.min(segmentSize, size - i * segmentSize);
            if (seg.getSize() != expected) {
                throw corrupt("segment " + i + " holds " + Long.toUnsignedString(seg.getSize()) + " bytes; "
                        + (i + 1 < segments ? "every segment but the last holds " + segmentSize : "the last one holds " + expected));
            }
            checkCid(seg.getCid(), ContentCodec.RAW, "segment " + i + " key");
            if (seg.getShardsCount() != k + parity) {
                throw corrupt("segment " + i + " has " + seg.getShardsCount() + " shards; RS(" + k + ", " + parity + ") needs " + (k + parity));
            }
            long shardSize = Math.ceilDiv(codedSize(m, seg), k);
            if (shardSize > ShardServer.MAX_SHARD) {
                throw corrupt("segment " + i + " has shards of " + shardSize + " bytes, over the limit of " + ShardServer.MAX_SHARD);
            }
            for (int j = 0; j < seg.getShardsCount(); j++) {
                Shard sh = seg.getShards(j);
                checkCid(sh.getCid(), ContentCodec.RAW, "segment " + i + " shard " + j);
                if (sh.getHoldersCount() > MAX_HOLDERS) {
                    throw corrupt("segment " + i + " shard " + j + " lists " + sh.getHoldersCount() + " holders, over " + MAX_HOLDERS);
                }
                for (ByteString h : sh.getHoldersList()) {
                    if (h.size() < MIN_PEER_ID_BYTES || PeerId.tryFromBytes(h.toByteArray()) == null) {
                        throw corrupt("segment " + i + " shard " + j + " has a holder of " + h.size() + " bytes that is not a peer ID");
                    }
                }
            }
        }
    }

    private static void checkDirectory(Manifest m) throws ObjectException {
        if (m.getK() != 0 || m.getM() != 0 || m.getSegmentSize() != 0 || m.getSegmentsCount() > 0
                || !m.getInlineData().isEmpty() || m.hasEncryption()) {
            throw corrupt("is a directory with file fields (segments, inline bytes, encryption or RS parameters)");
        }
        if (m.getEntriesCount() > ObjectStore.MAX_ENTRIES) {
            throw corrupt("directory has " + m.getEntriesCount() + " entries, over " + ObjectStore.MAX_ENTRIES);
        }
        long total = 0;
        byte[] previous = null;
        for (int i = 0; i < m.getEntriesCount(); i++) {
            Entry e = m.getEntries(i);
            try {
                Directories.checkName(e.getName());
            } catch (ObjectException x) {
                throw corrupt("directory entry " + i + ": " + x.getMessage());
            }
            byte[] name = e.getName().getBytes(StandardCharsets.UTF_8);
            if (previous != null && Arrays.compareUnsigned(previous, name) >= 0) {
                throw corrupt("directory entry " + i + " '" + e.getName() + "' is not after the one before it"
                        + " (entries are sorted by name bytes, names unique)");
            }
            previous = name;
            checkCid(e.getCid(), ContentCodec.MANIFEST, "directory entry '" + e.getName() + "'");
            if (e.getKind() != Kind.FILE && e.getKind() != Kind.DIRECTORY) {
                throw corrupt("directory entry '" + e.getName() + "' has kind " + e.getKindValue());
            }
            checkContentType(e.getContentType(), "directory entry '" + e.getName() + "' content type");
            if (e.getSize() < 0) {
                throw corrupt("directory entry '" + e.getName() + "' size " + Long.toUnsignedString(e.getSize()) + " is over 2^63 - 1");
            }
            total += e.getSize();
            if (total < 0) {
                throw corrupt("directory entries' sizes add up to more than 2^63 - 1");
            }
        }
        if (total != m.getSize()) {
            throw corrupt("directory size " + m.getSize() + " is not the sum of its entries' sizes, " + total);
        }
    }

    private static void checkCid(ByteString bytes, ContentCodec codec, String what) throws ObjectException {
        Cid cid;
        try {
            cid = Cid.fromBytes(bytes.toByteArray());
        } catch (IllegalArgumentException e) { // CidFormatException: our own message, naming the part
            throw corrupt(what + " CID does not parse: " + e.getMessage());
        }
        if (cid.codec() != codec || cid.function() != HashFunction.BLAKE3) {
            throw corrupt(what + " CID " + cid + " is " + cid.codec().label() + "/" + cid.function().label()
                    + "; " + codec.label() + "/blake3 expected");
        }
    }

    private static ObjectException corrupt(String what) {
        return new ObjectException(ObjectException.Code.CORRUPT, "manifest " + what);
    }

    // ---- wire shape, before parsing ----

    /**
     * A known field: its wire type and, for a message or repeated bytes field, the least length of
     * each occurrence and the most occurrences in one parent.
     */
    private record Field(int wireType, Shape nested, int minLength, int maxCount, String one, String many) {
        static Field scalar(int wireType) {
            return new Field(wireType, null, 0, Integer.MAX_VALUE, null, null);
        }
    }

    /** A message type's known fields by number. */
    private record Shape(String name, Field... fields) {
        Field field(int number) {
            return number > 0 && number < fields.length ? fields[number] : null;
        }
    }

    private static final int VARINT = WireFormat.WIRETYPE_VARINT;
    private static final int BYTES = WireFormat.WIRETYPE_LENGTH_DELIMITED;
    // Least lengths: a shard or segment holds a raw CID field (2 + 36 bytes), a directory entry a
    // name field (3 bytes at least) and a manifest-codec CID field (2 + 38).
    private static final Shape SHARD = new Shape("shard", null, Field.scalar(BYTES),
            new Field(BYTES, null, MIN_PEER_ID_BYTES, MAX_HOLDERS, "holder", "holders"));
    private static final Shape SEGMENT = new Shape("segment", null, Field.scalar(VARINT), Field.scalar(BYTES),
            new Field(BYTES, SHARD, 2 + RAW_CID_BYTES, ReedSolomon.MAX_TOTAL_SHARDS, "shard", "shards"));
    private static final Shape ENCRYPTION = new Shape("encryption", null, Field.scalar(BYTES), Field.scalar(BYTES), Field.scalar(BYTES));
    private static final Shape ENTRY = new Shape("directory entry", null, Field.scalar(BYTES), Field.scalar(BYTES),
            Field.scalar(VARINT), Field.scalar(BYTES), Field.scalar(VARINT));
    private static final Shape MANIFEST = new Shape(null, null,
            Field.scalar(VARINT), Field.scalar(BYTES), Field.scalar(VARINT), Field.scalar(VARINT), Field.scalar(VARINT),
            Field.scalar(BYTES),
            new Field(BYTES, SEGMENT, 2 + RAW_CID_BYTES, Integer.MAX_VALUE, "segment", "segments"),
            Field.scalar(BYTES), Field.scalar(VARINT),
            new Field(BYTES, ENCRYPTION, 0, 1, "encryption", "encryption fields"),
            new Field(BYTES, ENTRY, 3 + 2 + RAW_CID_BYTES + 2, ObjectStore.MAX_ENTRIES, "directory entry", "directory entries"),
            Field.scalar(BYTES));

    /** Checks the wire shape described in the class comment, without building the message. */
    private static void scanShape(byte[] bytes) throws ObjectException {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        try {
            scan(in, MANIFEST, new int[1]);
        } catch (InvalidProtocolBufferException e) {
            throw corrupt("is not a well-formed protobuf message");
        }
    }

    private static void scan(CodedInputStream in, Shape shape, int[] unknown) throws ObjectException, InvalidProtocolBufferException {
        int[] counts = new int[shape.fields().length];
        try {
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                int number = WireFormat.getTagFieldNumber(tag);
                int type = WireFormat.getTagWireType(tag);
                if (type == WireFormat.WIRETYPE_START_GROUP || type == WireFormat.WIRETYPE_END_GROUP) {
                    throw corrupt("uses a protobuf group (field " + number + ")");
                }
                Field f = shape.field(number);
                if (f == null || f.wireType() != type) {
                    if (++unknown[0] > MAX_UNKNOWN_FIELDS) {
                        throw corrupt("has more than " + MAX_UNKNOWN_FIELDS + " unknown fields");
                    }
                    in.skipField(tag);
                } else if (f.one() == null) {
                    in.skipField(tag);
                } else {
                    int length = in.readRawVarint32();
                    if (length < f.minLength()) {
                        throw corrupt("has a " + f.one() + " of " + length + " bytes, too short to be one (at least "
                                + f.minLength() + ")");
                    }
                    if (++counts[number] > f.maxCount()) {
                        throw corrupt((shape.name() == null ? "has" : "has a " + shape.name() + " with") + " more than "
                                + f.maxCount() + " " + (f.maxCount() == 1 ? f.one() : f.many()));
                    }
                    if (f.nested() == null) {
                        in.skipRawBytes(length);
                    } else {
                        int limit = in.pushLimit(length);
                        scan(in, f.nested(), unknown);
                        in.popLimit(limit);
                    }
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (java.io.IOException e) { // CodedInputStream over an array throws only the former
            throw corrupt("is not a well-formed protobuf message");
        }
    }
}
