package io.oecloud.node.cli;

import io.oecloud.node.P2pNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.stream.ChunkedNioFile;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code oe put FILE} and {@code oe get CID}: objects through a running node's HTTP API, streamed
 * from and to disk (constant memory whatever the size), with a progress line on a terminal.
 */
final class ObjectCommands {
    private ObjectCommands() {}

    /** Progress on stderr when it is a terminal, at most a few times a second. */
    static final class Progress {
        private final PrintStream err = System.err;
        private final boolean tty = System.console() != null;
        private final long total;
        private long last;

        Progress(long total) {
            this.total = total;
        }

        void update(long done) {
            long now = System.nanoTime();
            if (!tty || now - last < 200_000_000L) {
                return;
            }
            last = now;
            err.print("\r" + (total > 0 ? String.format("%5.1f%% ", 100.0 * done / total) : "") + (done >> 20) + " MiB");
            err.flush();
        }

        void done() {
            if (tty) {
                err.print("\r\033[K");
                err.flush();
            }
        }
    }

    /**
     * One HTTP exchange over Netty; the response body goes to the stream {@code sinkFor} gives for
     * the status (the object for a 200, an error message otherwise).
     */
    static int exchange(ApiEndpoint endpoint, HttpRequest req, Object body,
                        java.util.function.IntFunction<OutputStream> sinkFor, Progress progress) throws Exception {
        InetSocketAddress api = endpoint.address();
        req.headers().set(HttpHeaderNames.HOST, endpoint.hostHeader());
        if (endpoint.authorization() != null) {
            req.headers().set(HttpHeaderNames.AUTHORIZATION, endpoint.authorization());
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        CompletableFuture<Integer> status = new CompletableFuture<>();
        try {
            long[] got = {0};
            Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ReadTimeoutHandler(300)).addLast(new HttpClientCodec())
                                    .addLast(new ChunkedWriteHandler())
                                    .addLast(new SimpleChannelInboundHandler<HttpObject>() {
                                        private int code;
                                        private OutputStream sink;

                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) throws Exception {
                                            if (msg instanceof HttpResponse r) {
                                                code = r.status().code();
                                                sink = sinkFor.apply(code);
                                            }
                                            if (msg instanceof HttpContent c) {
                                                ByteBuf content = c.content();
                                                got[0] += content.readableBytes();
                                                content.readBytes(sink, content.readableBytes());
                                                if (progress != null) {
                                                    progress.update(got[0]);
                                                }
                                                if (msg instanceof LastHttpContent) {
                                                    status.complete(code);
                                                    ctx.close();
                                                }
                                            }
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            status.completeExceptionally(cause);
                                            ctx.close();
                                        }

                                        @Override
                                        public void channelInactive(ChannelHandlerContext ctx) {
                                            status.completeExceptionally(new IOException("the node closed the connection after "
                                                    + got[0] + " bytes (the object could not be read completely)"));
                                        }
                                    });
                        }
                    });
            io.netty.channel.ChannelFuture connected = b.connect(api).await();
            if (!connected.isSuccess()) {
                throw new IOException("no node answers at " + api.getHostString() + ":" + api.getPort()
                        + " (" + connected.cause().getMessage() + ")");
            }
            var ch = connected.channel();
            ch.write(req);
            ch.writeAndFlush(body == null ? LastHttpContent.EMPTY_LAST_CONTENT : body);
            return status.get(24, TimeUnit.HOURS);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Command(name = "put", description = "Upload FILE (or, with -r, the directory DIR) through the running node; prints the object's CID.")
    static final class Put implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        @Parameters(paramLabel = "FILE|DIR")
        Path file;

        @Option(names = {"-r", "--recursive"}, description = "Upload a directory: every file, then a directory object naming them.")
        boolean recursive;

        @Option(names = "--type", paramLabel = "MIME", description = "Content-Type to record (default: guessed from the name).")
        String type;

        @Option(names = "--encrypt", description = "Encrypt the segments (AES-256-GCM); only this node can read the object back.")
        boolean encrypt;

        @CommandLine.ArgGroup(exclusive = true)
        Duration duration;

        /** How long the storage is paid for (a node with a chain link pays from its account); 30 days when not given. */
        static final class Duration {
            @Option(names = "--periods", paramLabel = "N", description = "Pay for N chain periods.")
            Long periods;

            @Option(names = "--days", paramLabel = "D", description = "Pay for D days (default 30), converted with the chain's period length and block time.")
            Long days;

            String query() {
                return periods != null ? "periods=" + periods : days != null ? "days=" + days : null;
            }
        }

        private int files;
        private int directories;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            try {
                ApiEndpoint api = target.endpoint();
                String cid;
                if (recursive) {
                    if (!Files.isDirectory(file)) {
                        err.println("oe put: " + file + " is not a directory (-r uploads directories)");
                        return 1;
                    }
                    cid = putDirectory(api, err);
                } else {
                    if (Files.isDirectory(file)) {
                        err.println("oe put: " + file + " is a directory; use oe put -r to upload it");
                        return 1;
                    }
                    if (!Files.isRegularFile(file)) {
                        err.println("oe put: " + file + " is not a readable file");
                        return 1;
                    }
                    cid = putFile(api, file, type);
                }
                err.flush();
                spec.commandLine().getOut().println(cid);
                return 0;
            } catch (IOException e) {
                err.println("oe put: " + e.getMessage());
                return 1;
            }
        }

        /** {@code oe put -r}: uploads the directory {@link #file} through {@code api}; returns its CID (also for {@code oe site publish}). */
        String putDirectory(ApiEndpoint api, PrintWriter err) throws Exception {
            String cid;
            try (ApiClient client = new ApiClient(api)) {
                cid = putTree(api, client, file, err);
            }
            err.println(files + " files, " + directories + " directories");
            return cid;
        }

        /** Uploads the files under {@code dir} (depth first, by name), then the directory naming them. */
        private String putTree(ApiEndpoint api, ApiClient client, Path dir, PrintWriter err) throws Exception {
            List<Path> children;
            try (var s = Files.list(dir)) {
                children = s.sorted().toList();
            }
            List<java.util.Map<String, String>> entries = new java.util.ArrayList<>();
            for (Path c : children) {
                String cid;
                if (Files.isSymbolicLink(c)) {
                    err.println("skipped symbolic link " + c);
                    continue;
                } else if (Files.isDirectory(c)) {
                    cid = putTree(api, client, c, err);
                } else if (Files.isRegularFile(c)) {
                    cid = putFile(api, c, null);
                    files++;
                } else {
                    err.println("skipped " + c + " (not a regular file)");
                    continue;
                }
                entries.add(java.util.Map.of("name", c.getFileName().toString(), "cid", cid));
            }
            byte[] body = new ObjectMapper().writeValueAsBytes(java.util.Map.of("entries", entries));
            String q = duration == null ? null : duration.query();
            ApiClient.Answer a = client.call(HttpMethod.POST, "/v1/directories" + (q == null ? "" : "?" + q), body).get(10, TimeUnit.MINUTES);
            if (a.status() != 201) {
                throw new IOException(dir + ": " + client.errorOf(a));
            }
            var json = new ObjectMapper().readTree(a.body());
            paid(dir + "/", json.path("contract"), err);
            directories++;
            return json.path("cid").asText();
        }

        private String putFile(ApiEndpoint api, Path f, String mimeType) throws Exception {
            try (FileChannel fc = FileChannel.open(f, StandardOpenOption.READ)) {
                long size = fc.size();
                String q = duration == null ? null : duration.query();
                String uri = "/v1/objects" + (encrypt ? "?encrypt=true" : "") + (q == null ? "" : (encrypt ? "&" : "?") + q);
                HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri);
                String mime = mimeType != null ? mimeType : Files.probeContentType(f);
                req.headers().set(HttpHeaderNames.CONTENT_TYPE, mime == null ? "application/octet-stream" : mime)
                        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                HttpUtil.setContentLength(req, size);
                ByteArrayOutputStream answer = new ByteArrayOutputStream();
                Progress progress = new Progress(size);
                int code;
                try {
                    code = exchange(api, req, new HttpChunkedInput(new Counting(new ChunkedNioFile(fc, 0, size, 1 << 20), progress)),
                            c -> answer, null);
                } finally {
                    progress.done();
                }
                com.fasterxml.jackson.databind.JsonNode json;
                try {
                    json = new ObjectMapper().readTree(answer.toByteArray());
                } catch (IOException e) {
                    throw new IOException(f + ": the node sent a malformed answer (HTTP " + code + ")");
                }
                if (code != 201) {
                    throw new IOException(f + ": " + api.explain(code, json.path("error").asText("HTTP " + code)));
                }
                paid(f.toString(), json.path("contract"), spec.commandLine().getErr());
                return json.path("cid").asText();
            }
        }
    }

    /**
     * What an upload's contract costs and how long it is paid, on stderr (stdout keeps the CID
     * alone, for scripts): nothing when the node does not pay (no chain link).
     */
    static void paid(String what, com.fasterxml.jackson.databind.JsonNode c, PrintWriter err) {
        if (c == null || c.isMissingNode() || c.isNull()) {
            return;
        }
        String cost = ChainCommands.passes(c.path("costPerPeriod").asText("0"));
        String until = c.path("paidUntil").isTextual() ? " (about " + c.path("paidUntil").asText() + ")" : "";
        if (c.path("existing").asBoolean(false)) {
            err.println(what + ": already paid for: " + cost + " a period, through period " + c.path("paidThrough").asLong() + until);
            return;
        }
        err.println(what + ": " + c.path("bytes").asLong() + " bytes on " + c.path("holders").size() + " holders cost " + cost
                + " a period; paid for " + c.path("periods").asLong() + " periods, through period " + c.path("paidThrough").asLong()
                + until + "; " + ChainCommands.passes(c.path("escrow").asText("0")) + " in escrow");
        if (c.path("pending").asBoolean(false)) {
            err.println(what + ": the contract is in the chain's mempool (tx " + c.path("tx").asText() + "); `oe contracts` lists it once"
                    + " a block holds it, in a second or so (paid from the period after that block's)");
        }
        if (c.path("unanswered").size() > 0) {
            err.println(what + ": " + c.path("unanswered").size() + " holders gave no receipt and are not paid: they drop their"
                    + " blocks after the grace, and repair rebuilds them on nodes that sign");
        }
    }

    /** A file being sent, reporting how far it got. */
    private record Counting(ChunkedNioFile in, Progress bar) implements io.netty.handler.stream.ChunkedInput<ByteBuf> {
        @Override
        public boolean isEndOfInput() throws Exception {
            return in.isEndOfInput();
        }

        @Override
        public void close() throws Exception {
            in.close();
        }

        @Override
        @Deprecated
        public ByteBuf readChunk(ChannelHandlerContext ctx) throws Exception {
            return readChunk(ctx.alloc());
        }

        @Override
        public ByteBuf readChunk(io.netty.buffer.ByteBufAllocator alloc) throws Exception {
            ByteBuf b = in.readChunk(alloc);
            bar.update(in.progress());
            return b;
        }

        @Override
        public long length() {
            return in.length();
        }

        @Override
        public long progress() {
            return in.progress();
        }
    }

    /** {@code oe ls}: the objects uploaded through the node. */
    @Command(name = "ls", description = "List the objects uploaded through the running node (newest first).")
    static final class Ls implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        @Option(names = "--json", description = "Print the node's JSON answer.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            return simple(spec, target, HttpMethod.GET, "/v1/objects", doc -> {
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(doc.toPrettyString());
                    return;
                }
                for (var o : doc.path("objects")) {
                    out.printf("%s  %12d  %-24s  %s%s%n", o.path("cid").asText(), o.path("size").asLong(),
                            o.path("type").asText(), o.path("stored").asText(),
                            o.path("encrypted").asBoolean() ? "  encrypted" : "");
                }
            });
        }
    }

    /** {@code oe rm CID}: unpin an object. */
    @Command(name = "rm", description = "Unpin an object uploaded through the running node; its shards are collected after the grace period.")
    static final class Rm implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        @Parameters(paramLabel = "CID")
        String cid;

        @Override
        public Integer call() throws Exception {
            try {
                io.oecloud.proofs.Cid.parse(cid);
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("oe rm: malformed CID '" + cid + "': " + e.getMessage());
                return 1;
            }
            return simple(spec, target, HttpMethod.DELETE, "/v1/objects/" + cid, doc -> {
                PrintWriter out = spec.commandLine().getOut();
                out.println("unpinned " + doc.path("cid").asText() + " (" + doc.path("unpinned").asInt() + " pins removed)");
                var c = doc.path("contract");
                if (!c.isMissingNode()) {
                    out.println("contract ended: " + ChainCommands.passes(c.path("refund").asText("0")) + " refunded, paid through period "
                            + c.path("paidThrough").asLong());
                }
            });
        }
    }

    /** {@code oe status}: the node's state. */
    @Command(name = "status", description = "Show the running node's state: shards, space, connections, RS parameters, its chain account.")
    static final class Status implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        @Override
        public Integer call() throws Exception {
            return simple(spec, target, HttpMethod.GET, "/v1/status", doc -> {
                PrintWriter out = spec.commandLine().getOut();
                flatten("", doc, out);
            });
        }
    }

    /**
     * {@code doc}'s fields one a line, nested objects by dotted names ("chain": {"account", ...} as
     * chain.account, ...; "paidStorage": {"holding": {"bytes"}} as paidStorage.holding.bytes); arrays as JSON.
     */
    static void flatten(String prefix, com.fasterxml.jackson.databind.JsonNode doc, PrintWriter out) {
        doc.fields().forEachRemaining(e -> {
            String name = prefix + e.getKey();
            if (e.getValue().isObject()) {
                flatten(name + ".", e.getValue(), out);
            } else {
                out.printf("%-18s %s%n", name, e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
            }
        });
    }

    /** One JSON request to the node; non-2xx answers become "oe CMD: message". */
    static int simple(CommandLine.Model.CommandSpec spec, NodeChoice target, HttpMethod method, String uri,
                              java.util.function.Consumer<com.fasterxml.jackson.databind.JsonNode> show) {
        PrintWriter err = spec.commandLine().getErr();
        String name = spec.name();
        try (ApiClient client = new ApiClient(target.endpoint())) {
            ApiClient.Answer a = client.call(method, uri, null).get(5, TimeUnit.MINUTES);
            if (a.status() / 100 != 2) {
                err.println("oe " + name + ": " + client.errorOf(a));
                return 1;
            }
            var doc = new ObjectMapper().readTree(a.body());
            show.accept(doc);
            spec.commandLine().getOut().flush();
            return 0;
        } catch (Exception e) {
            err.println("oe " + name + ": " + P2pNode.rootMessage(e));
            return 1;
        }
    }

    @Command(name = "get", description = "Download the object CID through the running node (to stdout, or -o FILE).")
    static final class Get implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeChoice target;

        @Parameters(paramLabel = "CID[/PATH]", description = "The object, or a path inside a directory object.")
        String cid;

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write here instead of stdout.")
        Path output;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            String[] parts = cid.split("/");
            try {
                io.oecloud.proofs.Cid.parse(parts[0]);
            } catch (IllegalArgumentException e) {
                err.println("oe get: malformed CID '" + parts[0] + "': " + e.getMessage());
                return 1;
            }
            StringBuilder uri = new StringBuilder("/v1/objects/").append(parts[0]);
            for (int i = 1; i < parts.length; i++) {
                if (!parts[i].isEmpty()) {
                    uri.append('/').append(java.net.URLEncoder.encode(parts[i], java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"));
                }
            }
            ApiEndpoint api;
            try {
                api = target.endpoint();
            } catch (IOException e) {
                err.println("oe get: " + e.getMessage());
                return 1;
            }
            Path tmp = output == null ? null : output.resolveSibling(output.getFileName() + ".part");
            HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri.toString());
            req.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ByteArrayOutputStream error = new ByteArrayOutputStream();
            OutputStream[] opened = {null};
            int code;
            try {
                code = exchange(api, req, null, status -> {
                    if (status != 200) {
                        return error;
                    }
                    try {
                        opened[0] = tmp == null ? System.out : Files.newOutputStream(tmp);
                        return opened[0];
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, new Progress(-1));
            } catch (Exception e) {
                err.println("oe get: " + P2pNode.rootMessage(e));
                if (tmp != null) {
                    Files.deleteIfExists(tmp);
                }
                return 1;
            } finally {
                if (opened[0] != null) {
                    opened[0].flush();
                    if (tmp != null) {
                        opened[0].close();
                    }
                }
            }
            if (code != 200) {
                String msg;
                try {
                    msg = new ObjectMapper().readTree(error.toByteArray()).path("error").asText();
                } catch (IOException e) {
                    msg = error.toString();
                }
                err.println("oe get: " + api.explain(code, msg) + " (HTTP " + code + ")");
                return 1;
            }
            if (tmp != null) {
                Files.move(tmp, output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return 0;
        }
    }
}
