package io.meshwork.control.http.views;

import java.util.List;

/** {@code GET /api/v1/organizations/{id}/devices}: one page of the listing and how many match in all. */
public record DevicePage(int total, int offset, List<DeviceView> devices) {}
