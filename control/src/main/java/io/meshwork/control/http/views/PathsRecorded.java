package io.meshwork.control.http.views;

/** {@code POST /api/v1/devices/self/paths}: how many peers' paths the report carried. */
public record PathsRecorded(int recorded) {}
