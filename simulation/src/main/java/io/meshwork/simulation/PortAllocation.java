package io.meshwork.simulation;

/** How a NAT picks the public port of a new mapping (RFC 4787 §4.2.1). */
public enum PortAllocation {
    /** The internal port when free (RFC 4787 §4.2.1 port preservation), else a random one. */
    PRESERVING,
    /** One counter for the whole NAT, plus one per new mapping: the kind port prediction can guess. */
    SEQUENTIAL,
    /** A random free port per mapping, as Linux {@code --random-fully} does. */
    RANDOM
}
