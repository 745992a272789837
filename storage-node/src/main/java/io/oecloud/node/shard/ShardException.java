package io.oecloud.node.shard;

import io.oecloud.node.pb.ShardProto.ShardResponse.Status;

/** A shard request the remote node refused or could not serve; {@link #status()} says why. */
public final class ShardException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Status status;

    public ShardException(Status status, String message) {
        super(status + ": " + message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
