package io.oecloud.dht;

import io.oecloud.dht.pb.Kad;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * One iterative Kademlia lookup: keep the closest peers seen so far, ask the α closest not yet
 * asked, merge the closer peers each reply names, and stop when the k closest known peers have
 * all answered (or when {@link Visitor#visit} says the goal is reached). Peers that fail are
 * dropped from the candidates (and reported, so the routing table can evict them).
 */
final class Lookup {
    /** Sees every reply; returns true to stop the lookup early. */
    interface Visitor {
        boolean visit(PeerId from, Kad.Message reply, int hops);
    }

    /** What a finished lookup saw. */
    record Result(List<PeerId> closest, int messages, int hops, boolean stoppedEarly) {}

    private enum State { NEW, WAITING, DONE, FAILED }

    private final KadDht dht;
    private final KadKey target;
    private final Kad.Message request;
    private final Visitor visitor;
    private final Comparator<PeerId> byDistance;
    private final TreeSet<PeerId> candidates;
    private final Map<PeerId, State> state = new HashMap<>();
    private final Map<PeerId, Integer> depth = new HashMap<>();
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private int inFlight;
    private int messages;
    private int stopHops = -1;

    Lookup(KadDht dht, KadKey target, Kad.Message request, Visitor visitor) {
        this.dht = dht;
        this.target = target;
        this.request = request;
        this.visitor = visitor;
        this.byDistance = Comparator.<PeerId, KadKey>comparing(KadKey::of, target::compareDistance)
                .thenComparing(Comparator.naturalOrder());
        this.candidates = new TreeSet<>(byDistance);
    }

    CompletableFuture<Result> run(List<PeerId> seeds) {
        synchronized (this) {
            for (PeerId p : seeds) {
                addCandidate(p, 0);
            }
        }
        step();
        return result;
    }

    private void addCandidate(PeerId p, int d) {
        if (p.equals(dht.self()) || state.containsKey(p)) {
            return;
        }
        state.put(p, State.NEW);
        depth.put(p, d);
        candidates.add(p);
    }

    private void step() {
        List<PeerId> toAsk = new ArrayList<>();
        synchronized (this) {
            if (result.isDone()) {
                return;
            }
            int k = dht.config().k();
            int seen = 0;
            boolean allDone = true;
            for (PeerId p : candidates) {
                if (seen >= k) {
                    break;
                }
                State s = state.get(p);
                if (s == State.FAILED) {
                    continue;
                }
                seen++;
                if (s == State.NEW) {
                    allDone = false;
                    if (inFlight + toAsk.size() < dht.config().alpha()) {
                        toAsk.add(p);
                    }
                } else if (s == State.WAITING) {
                    allDone = false;
                }
            }
            if (allDone && inFlight == 0) {
                finish(false);
                return;
            }
            for (PeerId p : toAsk) {
                state.put(p, State.WAITING);
                inFlight++;
                messages++;
            }
        }
        for (PeerId p : toAsk) {
            Deadlines.orTimeout(dht.network().request(p, request), dht.config().requestTimeout().toMillis())
                    .whenComplete((reply, err) -> onReply(p, reply, err));
        }
    }

    private void onReply(PeerId p, Kad.Message reply, Throwable err) {
        boolean stop = false;
        synchronized (this) {
            inFlight--;
            if (result.isDone()) {
                return;
            }
            if (err != null) {
                state.put(p, State.FAILED);
            } else {
                state.put(p, State.DONE);
                int d = depth.getOrDefault(p, 0);
                int read = 0;
                for (Kad.Message.Peer cp : reply.getCloserPeersList()) {
                    if (++read > maxCloserPerReply()) {
                        break; // an honest server names k (+1: the target); more only floods our peer store
                    }
                    try {
                        PeerId id = PeerId.fromBytes(cp.getId().toByteArray());
                        dht.learn(id, cp);
                        addCandidate(id, d + 1);
                    } catch (IllegalArgumentException e) {
                        // a malformed peer entry: skip it
                    }
                }
                if (visitor != null && visitor.visit(p, reply, d + 1)) {
                    stopHops = d + 1;
                    stop = true;
                }
            }
        }
        if (err != null) {
            dht.peerFailed(p);
        }
        if (stop) {
            synchronized (this) {
                finish(true);
            }
            return;
        }
        step();
    }

    /** Closer peers read from one reply: 2k, lenient towards servers with larger buckets. */
    private int maxCloserPerReply() {
        return 2 * dht.config().k();
    }

    private void finish(boolean early) {
        List<PeerId> closest = new ArrayList<>();
        for (PeerId p : candidates) {
            if (closest.size() >= dht.config().k()) {
                break;
            }
            if (state.get(p) == State.DONE) {
                closest.add(p);
            }
        }
        // Hops: how many requests deep the answer was: the peer that ended the lookup, else the closest.
        int hops = early ? stopHops : closest.isEmpty() ? 0 : depth.get(closest.get(0)) + 1;
        result.complete(new Result(closest, messages, hops, early));
    }
}
