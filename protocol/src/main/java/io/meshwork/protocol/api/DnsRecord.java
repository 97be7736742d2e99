package io.meshwork.protocol.api;

/**
 * A custom DNS record of an organization (docs/api.md, "DNS"): {@code POST
 * /api/v1/organizations/{id}/dns/records} takes one, and nodes get them all on the peer-map stream.
 *
 * @param id    control's id of the record (for {@code DELETE .../dns/records/{id}}); null in a request
 * @param name  the owner name, absolute under the organization's domain ("www.meshwork.internal"); a request may
 *              give it relative to the domain ("www")
 * @param type  "A", "AAAA", "CNAME", "TXT" or "SRV"
 * @param value by type: an IPv4 or IPv6 address; the target name of a CNAME; the text of a TXT (split into
 *              255-octet strings on the wire); "PRIORITY WEIGHT PORT TARGET" for an SRV
 * @param ttl   seconds resolvers may keep the answer; 0 in a request for the default
 */
public record DnsRecord(String id, String name, String type, String value, int ttl) {

    public static final String A = "A";
    public static final String AAAA = "AAAA";
    public static final String CNAME = "CNAME";
    public static final String TXT = "TXT";
    public static final String SRV = "SRV";
}
