/**
 * The JSON answers of the control API as typed records, serialized by Jackson in component order (docs/api.md,
 * "Bodies"). Null components are written as {@code null} unless marked {@code @JsonInclude(NON_NULL)}, which are
 * left out. They are built from the entities' state by their {@code of} factories and never read back.
 */
package io.meshwork.control.http.views;
