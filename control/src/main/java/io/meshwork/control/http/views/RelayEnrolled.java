package io.meshwork.control.http.views;

/** The answer to a relay's enrollment: its id, the CA its devices' certificates chain to, how often to report. */
public record RelayEnrolled(String relayId, String caCertificatePem, int heartbeatSeconds) {}
