package io.meshwork.control.http.views;

/** {@code GET /health} ({@code "ok"}) and {@code GET /ready} ({@code "ready"}). */
public record Status(String status) {}
