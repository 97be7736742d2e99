package io.meshwork.protocol.api;

/** The JSON body of every error answer: what went wrong, in words. */
public record ApiError(String error) {}
