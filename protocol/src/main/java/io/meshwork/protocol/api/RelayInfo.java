package io.meshwork.protocol.api;

/** A relay devices may use: its name and its UDP and TCP addresses ("host:port"; either may be null). */
public record RelayInfo(String name, String udp, String tcp) {}
