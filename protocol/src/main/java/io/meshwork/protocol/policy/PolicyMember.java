package io.meshwork.protocol.policy;

import java.util.List;
import java.util.Set;

/** What policy knows of an active device: its id, its tags and its overlay addresses. */
public record PolicyMember(String id, Set<String> tags, List<String> overlayIps) {

    public PolicyMember {
        tags = tags == null ? Set.of() : Set.copyOf(tags);
        overlayIps = overlayIps == null ? List.of() : List.copyOf(overlayIps);
    }

    public PolicyMember(String id, List<String> tags, List<String> overlayIps) {
        this(id, tags == null ? Set.of() : Set.copyOf(tags), overlayIps);
    }
}
