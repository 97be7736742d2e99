package io.meshwork.protocol.api;

import java.util.List;
import java.util.Map;

/**
 * {@code POST /api/v1/register}, authorised by a registration key.
 *
 * @param publicKey the device's WireGuard public key, base64 as {@code wg} prints it
 * @param hostname  the name peers and admins know the device by
 * @param metadata  free-form labels (optional)
 * @param endpoints addresses the device already knows (optional)
 */
public record RegisterRequest(String publicKey, String hostname, Map<String, String> metadata,
        List<Endpoint> endpoints) {}
