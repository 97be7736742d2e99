package io.meshwork.control.http.views;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * {@code GET /api/v1/cluster}: this member's address, the leader ({@code null} when there is none), the members it
 * sees with their status, the addresses it cannot reach, and {@code controlPin}, the pin of the API's TLS
 * certificate ({@code sha256:<hex>}; absent over plain HTTP).
 */
public record ClusterView(String self, String leader, List<Member> members, List<String> unreachable,
        @JsonInclude(JsonInclude.Include.NON_NULL) String controlPin) {

    public record Member(String address, String status) {}
}
