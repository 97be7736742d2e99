package io.meshwork.control.http.views;

/** {@code {"ok": true}}: a relay's health report was taken. */
public record Acknowledged(boolean ok) {}
