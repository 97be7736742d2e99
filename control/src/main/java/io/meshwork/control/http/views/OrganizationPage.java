package io.meshwork.control.http.views;

import java.util.List;

/** {@code GET /api/v1/organizations}: one page of the listing and how many there are in all. */
public record OrganizationPage(int total, int offset, List<OrganizationSummary> organizations) {}
