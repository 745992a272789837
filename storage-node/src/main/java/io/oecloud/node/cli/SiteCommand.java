package io.oecloud.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpMethod;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code oe site}: websites served by CDN edges under names of OEChain's registry. */
@Command(name = "site", description = "Websites: upload a directory and point a site name at it.", subcommands = SiteCommand.Publish.class)
final class SiteCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * {@code oe site publish NAME DIR}: {@code oe put -r DIR}, then the name registered to the
     * key's account (when nobody holds it) or moved to the new root (when the key holds it), in
     * one step. Edges serve it at {@code http://NAME.n.DOMAIN/} and follow the update within
     * seconds.
     */
    @Command(name = "publish", description = "Upload DIR (as oe put -r) and point NAME at it: registered to the key's account when "
            + "nobody holds it, updated when the key does. Edges serve it at http://NAME.n.localhost:9080/ (the devnet's edge).")
    static final class Publish extends ChainCommands.Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "3-63 of a-z, 0-9 and '-', not first or last.")
        String name;

        @Parameters(index = "1", paramLabel = "DIR")
        Path dir;

        @CommandLine.Mixin
        ChainCommands.KeyChoice keys;

        @Option(names = "--fee", paramLabel = "BASE_UNITS", description = "Fee in base units (default: what the chain asks for the transaction's size).")
        BigInteger fee;

        @CommandLine.ArgGroup(exclusive = true)
        ObjectCommands.Put.Duration duration;

        @Override
        void run() throws Exception {
            ChainCommands.checkedName(name); // before anything is uploaded
            if (!Files.isDirectory(dir)) {
                throw new IOException(dir + " is not a directory");
            }
            Identity key = keys.open();
            String me = Ledger.address(key.publicKey());
            String holder = owner();
            if (holder != null && !holder.equals(me)) {
                throw new IOException("the name '" + name + "' belongs to " + holder + ", not to this key (" + me + ")");
            }
            PrintWriter err = spec.commandLine().getErr();
            ObjectCommands.Put put = new ObjectCommands.Put();
            put.spec = spec;
            put.target = target;
            put.file = dir;
            put.recursive = true;
            put.duration = duration;
            Cid root = Cid.parse(put.putDirectory(target.endpoint(), err));
            TxBody.Builder body = holder == null ? ChainClient.registerNameTx(name, root) : ChainClient.updateNameTx(name, root);
            JsonNode r = ChainCommands.submit(target, key, fee, body);
            out().println((holder == null ? "registered " : "updated ") + name + " -> " + root + " in block " + r.path("height").asLong());
            out().println("served at http://" + name + ".n.localhost:9080/ by the devnet's edge (oe edge --domain D: http://" + name + ".n.D/),"
                    + " at http://" + root.toBase36() + ".c.localhost:9080/ (its own origin) and at /c/" + root + "/ on any edge");
        }

        /** The name's owner now, or null when nobody holds it (404). */
        private String owner() throws Exception {
            try (ApiClient client = new ApiClient(target.endpoint())) {
                ApiClient.Answer a = client.call(HttpMethod.GET, "/v1/chain/names/" + name, null).get(2, java.util.concurrent.TimeUnit.MINUTES);
                if (a.status() == 404) {
                    return null;
                }
                if (a.status() != 200) {
                    throw new IOException("the node could not say who holds '" + name + "': " + client.errorOf(a));
                }
                return new com.fasterxml.jackson.databind.ObjectMapper().readTree(a.body()).path("owner").asText();
            }
        }
    }
}
