package io.meshwork.control.http.views;

/**
 * The answer to a node's relay enrollment ({@code POST /api/v1/devices/self/relay}): the relay's id, the
 * organization whose devices alone it serves, the CA its devices' certificates chain to, and how often to report.
 */
public record NodeRelayEnrolled(String relayId, String organizationId, String caCertificatePem,
        int heartbeatSeconds) {}
