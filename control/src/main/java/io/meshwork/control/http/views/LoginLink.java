package io.meshwork.control.http.views;

/**
 * {@code POST /api/v1/ui/login-links}: the console URL that logs its opener in once ({@code .../ui/#login=CODE}),
 * and when it stops working (epoch milliseconds).
 */
public record LoginLink(String url, long expiresAt) {}
