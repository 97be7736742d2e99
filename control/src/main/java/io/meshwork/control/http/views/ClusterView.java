package io.meshwork.control.http.views;

import java.util.List;

/**
 * {@code GET /api/v1/cluster}: this member's address, the leader ({@code null} when there is none), the members it
 * sees with their status, and the addresses it cannot reach.
 */
public record ClusterView(String self, String leader, List<Member> members, List<String> unreachable) {

    public record Member(String address, String status) {}
}
