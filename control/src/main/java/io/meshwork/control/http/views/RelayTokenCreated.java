package io.meshwork.control.http.views;

/** A new relay enrollment token, shown this once, with the relay's name and region ({@code null}: none). */
public record RelayTokenCreated(String token, String name, String region) {}
