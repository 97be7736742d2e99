package io.meshwork.control.http.views;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The answer to a node's endpoint report: the address its request came from ({@code ""} when unknown), whether the
 * report changed the device, and then the organization revision that carries the change (left out otherwise).
 */
public record EndpointsReported(String observedAddress, boolean changed,
        @JsonInclude(JsonInclude.Include.NON_NULL) Long revision) {}
