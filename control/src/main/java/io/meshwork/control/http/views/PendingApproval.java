package io.meshwork.control.http.views;

/** The peer stream's 403 to a device that waits for approval: the error, and {@code code} for the node. */
public record PendingApproval(String error, String code) {}
