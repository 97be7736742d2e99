package io.meshwork.protocol.api;

import java.util.List;

/**
 * One line of the peer-map stream ({@code GET /api/v1/peers/stream?since=REV}, NDJSON).
 *
 * @param type     "snapshot" (the whole map: {@code peers}), "upsert" (added or changed: {@code peers}),
 *                 "remove" (gone or revoked: {@code removed} ids), or "keepalive"
 * @param revision the organization revision after this event; resume with {@code since=revision}
 */
public record PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed) {

    public static final String SNAPSHOT = "snapshot";
    public static final String UPSERT = "upsert";
    public static final String REMOVE = "remove";
    public static final String KEEPALIVE = "keepalive";
}
