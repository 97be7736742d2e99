package io.meshwork.control.http.views;

import io.meshwork.control.relay.RelayDirectory;

/**
 * A relay enrollment token in {@code GET /api/v1/relays/tokens}: never its secret. {@code relayId} is the relay it
 * enrolled ({@code null}: none yet), {@code region} the relay's region ({@code null}: none).
 */
public record RelayTokenView(String id, String name, String region, long issuedMillis, String relayId) {

    public static RelayTokenView of(RelayDirectory.Token token) {
        return new RelayTokenView(token.id(), token.name(), token.region(), token.issuedMillis(), token.relayId());
    }
}
