package io.oecloud.node.object;

/** Reaches {@link Download}'s test seams from tests in other packages (network tests). */
public final class DownloadSeams {
    private DownloadSeams() {}

    /** Reads parts of at most {@code fraction} of a segment from slices until closed (1: always; -1: never). */
    public static AutoCloseable sliceFraction(double fraction) {
        Download.sliceFraction = fraction;
        return () -> Download.sliceFraction = Download.SLICE_FRACTION;
    }
}
