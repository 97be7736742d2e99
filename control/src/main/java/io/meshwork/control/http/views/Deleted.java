package io.meshwork.control.http.views;

/** The answer to a DELETE: the id or name of what was deleted. */
public record Deleted(String deleted) {}
