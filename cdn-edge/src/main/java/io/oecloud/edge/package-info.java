/**
 * The CDN edge: content by CID served over HTTP from a verified, tiered cache. The edge asks for
 * content through {@link io.oecloud.edge.Origin} (the storage node implements it) and checks
 * everything it gets against the CIDs before caching or serving it, so no origin and no edge has
 * to be trusted. Depends on proofs (CIDs, BLAKE3, verified slices, the manifest format) and the
 * project's HTTP front only.
 */
package io.oecloud.edge;
