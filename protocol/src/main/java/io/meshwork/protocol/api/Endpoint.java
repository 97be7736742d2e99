package io.meshwork.protocol.api;

/**
 * An address a device may be reached at, and how it was learned.
 *
 * @param address "ip:port" ("[v6]:port" for IPv6)
 * @param source  "local" (an interface address), "portmap" (a port mapping the device's gateway made for it by
 *                PCP, NAT-PMP or UPnP IGD), "stun" (STUN-reflexive), "relay" (seen by a relay) or "control" (the
 *                source address control saw)
 */
public record Endpoint(String address, String source) {}
