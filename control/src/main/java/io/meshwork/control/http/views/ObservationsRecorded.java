package io.meshwork.control.http.views;

/** How many of a relay's observations reached their devices. */
public record ObservationsRecorded(long recorded) {}
