package io.meshwork.protocol.api;

import java.util.List;

/**
 * What a node's resolver needs from control besides the peer map (docs/architecture.md, "Names"): the
 * organization's DNS domain and its custom records. It comes whole on the peer-map stream in a "dns" event,
 * first after the snapshot and then whenever it changes.
 *
 * @param domain  the organization's DNS domain, lowercase without a trailing dot ("meshwork.internal")
 * @param records every custom record, names absolute under {@code domain}
 */
public record DnsConfig(String domain, List<DnsRecord> records) {}
