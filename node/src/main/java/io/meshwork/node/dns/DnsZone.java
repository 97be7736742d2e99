package io.meshwork.node.dns;

import io.meshwork.protocol.api.DnsRecord;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.dns.DnsNames;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DefaultDnsPtrRecord;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The names this node answers for itself (docs/architecture.md, "Names"): one immutable table built whenever the
 * peer map or the DNS settings change, and swapped in whole, so a query never sees half an update. Every answer
 * record is built once here (wire content in buffers that are never released), so answering allocates little.
 *
 * <p>What is in it: {@code LABEL.DOMAIN} for this device and each peer of its peer map (A and AAAA from their
 * overlay addresses, TTL {@value #MESH_TTL_SECONDS} s so a rename or a removal is seen at once), PTR for every such
 * address, the organization's custom records, and an SOA at the domain's apex for negative answers (RFC 2308).
 * Devices whose labels collide share the name: it answers with all their addresses.
 */
public final class DnsZone {

    private static final Logger log = LoggerFactory.getLogger(DnsZone.class);
    /** Mesh names change with the peer map: resolvers and hosts must not keep them long. */
    public static final int MESH_TTL_SECONDS = 5;
    /** Custom records without a TTL of their own. */
    public static final int DEFAULT_RECORD_TTL_SECONDS = 60;
    /** RFC 1035 §3.3.14: one character-string is at most 255 octets. */
    private static final int TXT_CHUNK = 255;

    /** What a name holds, by type; the lists are never null. */
    record Entry(List<io.netty.handler.codec.dns.DnsRecord> a, List<io.netty.handler.codec.dns.DnsRecord> aaaa,
            io.netty.handler.codec.dns.DnsRecord cname, List<io.netty.handler.codec.dns.DnsRecord> txt,
            List<io.netty.handler.codec.dns.DnsRecord> srv) {

        List<io.netty.handler.codec.dns.DnsRecord> of(DnsRecordType type) {
            if (type == DnsRecordType.A) {
                return a;
            }
            if (type == DnsRecordType.AAAA) {
                return aaaa;
            }
            if (type == DnsRecordType.TXT) {
                return txt;
            }
            if (type == DnsRecordType.SRV) {
                return srv;
            }
            return List.of();
        }
    }

    /** One device of the zone: this node or a peer. */
    public record Device(String id, String hostname, List<String> overlayIps) {
        static Device of(PeerInfo peer) {
            return new Device(peer.id(), peer.hostname(), peer.overlayIps() == null ? List.of() : peer.overlayIps());
        }
    }

    private final String domain;
    private final Map<String, Entry> names;
    private final Map<String, io.netty.handler.codec.dns.DnsRecord> pointers;
    private final List<Prefix> overlay;
    private final io.netty.handler.codec.dns.DnsRecord soa;
    /** Encoded answers by "name/type", made on first use for names this zone has (bounded by them). */
    private final Map<String, byte[]> prepared = new java.util.concurrent.ConcurrentHashMap<>();
    private final int maxPrepared;

    private DnsZone(String domain, Map<String, Entry> names, Map<String, io.netty.handler.codec.dns.DnsRecord> pointers,
            List<Prefix> overlay) {
        this.domain = domain;
        this.names = names;
        this.pointers = pointers;
        this.overlay = overlay;
        this.soa = soa(domain);
        // A handful of types per name: A, AAAA, ANY and the like; names nobody has are never prepared.
        this.maxPrepared = 8 * (names.size() + pointers.size()) + 64;
    }

    /** The prepared answer for "name/type", or null. */
    byte[] preparedAnswer(String key) {
        return prepared.get(key);
    }

    /** Whether answers about {@code name} may be prepared: it is in the zone, and the table is not full. */
    boolean mayPrepare(String name) {
        return prepared.size() < maxPrepared && (names.containsKey(name) || pointers.containsKey(name));
    }

    void prepare(String key, byte[] answer) {
        prepared.putIfAbsent(key, answer);
    }

    /** A zone with only the domain (no device yet). */
    public static DnsZone empty(String domain) {
        return build(domain, List.of(), List.of(), List.of());
    }

    /**
     * The zone of {@code domain} for these devices (this node among them) and custom records, the overlay prefixes
     * deciding which reverse names are this zone's. A record that cannot be built (an address that does not parse,
     * a name outside the domain) is left out with a warning; the rest still answer.
     */
    public static DnsZone build(String domain, List<Device> devices, List<DnsRecord> custom, List<Prefix> overlay) {
        Map<String, Builder> names = new HashMap<>();
        Map<String, io.netty.handler.codec.dns.DnsRecord> pointers = new HashMap<>();
        for (Device device : devices) {
            String name = DnsNames.label(device.hostname(), device.id()) + "." + domain;
            Builder entry = names.computeIfAbsent(name, any -> new Builder());
            for (String ip : device.overlayIps()) {
                try {
                    InetAddress address = IpLiteral.parse(ip);
                    entry.address(name, address, MESH_TTL_SECONDS);
                    pointers.put(reverseName(address), new DefaultDnsPtrRecord(reverseName(address),
                            io.netty.handler.codec.dns.DnsRecord.CLASS_IN, MESH_TTL_SECONDS, name + "."));
                } catch (RuntimeException e) {
                    log.debug("no DNS record for {} of device {}: {}", ip, device.id(), e.getMessage());
                }
            }
        }
        for (DnsRecord record : custom) {
            try {
                String name = DnsNames.recordName(record.name(), domain);
                int ttl = record.ttl() > 0 ? record.ttl() : DEFAULT_RECORD_TTL_SECONDS;
                names.computeIfAbsent(name, any -> new Builder()).custom(name, record, ttl, domain);
            } catch (RuntimeException e) {
                log.warn("skipping the DNS record {} {} {}: {}", record.name(), record.type(), record.value(),
                        e.getMessage());
            }
        }
        Map<String, Entry> built = new HashMap<>();
        names.forEach((name, builder) -> built.put(name, builder.build()));
        return new DnsZone(domain, Map.copyOf(built), Map.copyOf(pointers), List.copyOf(overlay));
    }

    public String domain() {
        return domain;
    }

    /** What {@code name} (lowercase, no trailing dot) holds, or null when nothing. */
    Entry entry(String name) {
        return names.get(name);
    }

    /** Whether this zone answers for {@code name}: the domain and names under it, and reverse names of the overlay. */
    boolean authoritativeFor(String name) {
        return DnsNames.isUnder(name, domain) || overlayReverse(name);
    }

    /** The PTR record of a reverse name, or null. */
    io.netty.handler.codec.dns.DnsRecord pointer(String name) {
        return pointers.get(name);
    }

    /** The SOA of the domain, for the authority section of negative answers. */
    io.netty.handler.codec.dns.DnsRecord soa() {
        return soa;
    }

    /** The number of names (devices and custom) in the zone. */
    public int size() {
        return names.size();
    }

    /** Whether {@code name} is the reverse name of one address inside the overlay prefixes. */
    private boolean overlayReverse(String name) {
        InetAddress address = addressOfReverse(name);
        if (address == null) {
            return false;
        }
        for (Prefix prefix : overlay) {
            if (prefix.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** RFC 1035 §3.5 and RFC 3596 §2.5: {@code 4.3.2.1.in-addr.arpa}, nibbles under {@code ip6.arpa}. */
    static String reverseName(InetAddress address) {
        byte[] bytes = address.getAddress();
        StringBuilder name = new StringBuilder(bytes.length == 4 ? 29 : 73);
        if (bytes.length == 4) {
            for (int i = 3; i >= 0; i--) {
                name.append(bytes[i] & 0xFF).append('.');
            }
            return name.append("in-addr.arpa").toString();
        }
        for (int i = 15; i >= 0; i--) {
            name.append(Character.forDigit(bytes[i] & 0xF, 16)).append('.')
                    .append(Character.forDigit(bytes[i] >> 4 & 0xF, 16)).append('.');
        }
        return name.append("ip6.arpa").toString();
    }

    /** The address a full reverse name stands for, or null when it is not one. */
    static InetAddress addressOfReverse(String name) {
        if (name.endsWith(".in-addr.arpa")) {
            String[] parts = name.substring(0, name.length() - ".in-addr.arpa".length()).split("\\.", -1);
            if (parts.length != 4) {
                return null;
            }
            byte[] bytes = new byte[4];
            for (int i = 0; i < 4; i++) {
                String part = parts[3 - i];
                if (!part.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(part) > 255) {
                    return null;
                }
                bytes[i] = (byte) Integer.parseInt(part);
            }
            return IpLiteral.of(bytes);
        }
        if (name.endsWith(".ip6.arpa")) {
            String[] parts = name.substring(0, name.length() - ".ip6.arpa".length()).split("\\.", -1);
            if (parts.length != 32) {
                return null;
            }
            byte[] bytes = new byte[16];
            for (int i = 0; i < 32; i++) {
                String part = parts[31 - i];
                int nibble = part.length() == 1 ? Character.digit(part.charAt(0), 16) : -1;
                if (nibble < 0) {
                    return null;
                }
                bytes[i / 2] |= (byte) (i % 2 == 0 ? nibble << 4 : nibble);
            }
            return IpLiteral.of(bytes);
        }
        return null;
    }

    /** RFC 1035 §3.3.13, with RFC 2308's negative-caching TTL: nodes hold negative mesh answers briefly too. */
    private static io.netty.handler.codec.dns.DnsRecord soa(String domain) {
        ByteBuf content = Unpooled.buffer();
        writeName(content, "ns." + domain);
        writeName(content, "hostmaster." + domain);
        content.writeInt(1);
        content.writeInt(3600);
        content.writeInt(600);
        content.writeInt(86400);
        content.writeInt(MESH_TTL_SECONDS);
        return raw(domain, DnsRecordType.SOA, MESH_TTL_SECONDS, content);
    }

    private static io.netty.handler.codec.dns.DnsRecord raw(String name, DnsRecordType type, int ttl, ByteBuf content) {
        // Shared by every answer: the content is read by absolute index and never released.
        return new DefaultDnsRawRecord(name + ".", type, ttl, Unpooled.unreleasableBuffer(content.asReadOnly()));
    }

    /** RFC 1035 §3.1: a domain name as labels, uncompressed (RFC 2782 requires it for SRV targets). */
    static void writeName(ByteBuf out, String name) {
        String absolute = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (!absolute.isEmpty()) {
            for (String label : absolute.split("\\.", -1)) {
                byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                if (bytes.length == 0 || bytes.length > DnsNames.MAX_LABEL_LENGTH) {
                    throw new IllegalArgumentException("not a domain name: " + name);
                }
                out.writeByte(bytes.length).writeBytes(bytes);
            }
        }
        out.writeByte(0);
    }

    /** Collects the records of one name. */
    private static final class Builder {
        final List<io.netty.handler.codec.dns.DnsRecord> a = new ArrayList<>();
        final List<io.netty.handler.codec.dns.DnsRecord> aaaa = new ArrayList<>();
        final List<io.netty.handler.codec.dns.DnsRecord> txt = new ArrayList<>();
        final List<io.netty.handler.codec.dns.DnsRecord> srv = new ArrayList<>();
        io.netty.handler.codec.dns.DnsRecord cname;

        void address(String name, InetAddress address, int ttl) {
            byte[] bytes = address.getAddress();
            (bytes.length == 4 ? a : aaaa).add(raw(name, bytes.length == 4 ? DnsRecordType.A : DnsRecordType.AAAA,
                    ttl, Unpooled.wrappedBuffer(bytes)));
        }

        void custom(String name, DnsRecord record, int ttl, String domain) {
            String type = record.type() == null ? "" : record.type().toUpperCase(Locale.ROOT);
            String value = record.value() == null ? "" : record.value().strip();
            switch (type) {
                case DnsRecord.A, DnsRecord.AAAA -> {
                    InetAddress address = IpLiteral.parse(value);
                    if ((address.getAddress().length == 4) != type.equals(DnsRecord.A)) {
                        throw new IllegalArgumentException("not an " + (type.equals(DnsRecord.A) ? "IPv4" : "IPv6")
                                + " address: " + value);
                    }
                    address(name, address, ttl);
                }
                case DnsRecord.CNAME -> {
                    ByteBuf content = Unpooled.buffer();
                    writeName(content, target(value, domain));
                    cname = raw(name, DnsRecordType.CNAME, ttl, content);
                }
                case DnsRecord.TXT -> {
                    byte[] text = value.getBytes(StandardCharsets.UTF_8);
                    ByteBuf content = Unpooled.buffer(text.length + text.length / TXT_CHUNK + 1);
                    int offset = 0;
                    do {
                        int length = Math.min(TXT_CHUNK, text.length - offset);
                        content.writeByte(length).writeBytes(text, offset, length);
                        offset += length;
                    } while (offset < text.length);
                    txt.add(raw(name, DnsRecordType.TXT, ttl, content));
                }
                case DnsRecord.SRV -> {
                    // RFC 2782: priority, weight, port, target.
                    String[] parts = value.split("\\s+");
                    if (parts.length != 4) {
                        throw new IllegalArgumentException("an SRV value is PRIORITY WEIGHT PORT TARGET: " + value);
                    }
                    ByteBuf content = Unpooled.buffer();
                    for (int i = 0; i < 3; i++) {
                        int number = Integer.parseInt(parts[i]);
                        if (number < 0 || number > 65535) {
                            throw new IllegalArgumentException("SRV numbers are 0 to 65535: " + value);
                        }
                        content.writeShort(number);
                    }
                    writeName(content, target(parts[3], domain));
                    srv.add(raw(name, DnsRecordType.SRV, ttl, content));
                }
                default -> throw new IllegalArgumentException("unsupported record type " + record.type());
            }
        }

        /** A target name: as written when it has a dot ("db.example.com"), else relative to the domain ("db"). */
        private static String target(String value, String domain) {
            String lower = value.toLowerCase(Locale.ROOT);
            return lower.contains(".") ? lower : lower + "." + domain;
        }

        Entry build() {
            return new Entry(List.copyOf(a), List.copyOf(aaaa), cname, List.copyOf(txt), List.copyOf(srv));
        }
    }
}
