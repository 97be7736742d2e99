package io.meshwork.control.http.views;

import java.util.Collection;

/** The serials (hex) of every revoked device certificate, for relays. */
public record Revocations(Collection<String> serials) {}
