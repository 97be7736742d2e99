package io.meshwork.protocol.dns;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import java.net.InetAddress;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The names of devices (docs/architecture.md, "Names"): every device is {@code LABEL.DOMAIN}, its label the
 * DNS-safe form of its hostname, its domain the organization's ({@value #DEFAULT_DOMAIN} unless changed). The
 * rules live here so that control (device listings, record validation) and the node (its resolver, {@code
 * meshwork status}) agree on them. Also the resolver's service addresses, which control never hands out.
 */
public final class DnsNames {

    /** An organization's DNS domain until an administrator sets another. */
    public static final String DEFAULT_DOMAIN = "meshwork.internal";
    /** The resolver's IPv4 address on every node, inside the default overlay 100.64.0.0/10 (IPAM skips it). */
    public static final String SERVICE_IPV4 = "100.100.100.100";
    /** RFC 1035 §2.3.4: a label is at most 63 octets, a name at most 255 (253 as text without the root dot). */
    public static final int MAX_LABEL_LENGTH = 63;
    public static final int MAX_NAME_LENGTH = 253;
    /** RFC 1123 §2.1 host label: letters, digits and hyphens, not starting or ending with a hyphen. */
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** A label of a record name: a host label, or one starting with an underscore (SRV's {@code _sip._tcp}). */
    private static final Pattern RECORD_LABEL = Pattern.compile("_?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?|_[a-z0-9]");

    private DnsNames() {}

    /**
     * The DNS-safe form of {@code hostname}: lowercased; every run of characters that is not a letter, digit or
     * hyphen becomes one hyphen; hyphens trimmed at both ends; cut to {@value #MAX_LABEL_LENGTH} octets. A
     * hostname with nothing usable left ("", "###") becomes {@code fallback}'s safe form, and "device" if that
     * is empty too. A hostname that is a valid label already is returned lowercased and otherwise unchanged.
     */
    public static String label(String hostname, String fallback) {
        String safe = sanitize(hostname);
        if (safe.isEmpty()) {
            safe = sanitize(fallback);
        }
        return safe.isEmpty() ? "device" : safe;
    }

    private static String sanitize(String text) {
        if (text == null) {
            return "";
        }
        String lower = text.toLowerCase(Locale.ROOT);
        StringBuilder out = new StringBuilder(Math.min(lower.length(), MAX_LABEL_LENGTH));
        boolean hyphen = false;
        for (int i = 0; i < lower.length() && out.length() < MAX_LABEL_LENGTH; i++) {
            char c = lower.charAt(i);
            boolean plain = c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
            if (plain) {
                out.append(c);
                hyphen = false;
            } else if (!hyphen && out.length() > 0) {
                out.append('-');
                hyphen = true;
            }
        }
        int end = out.length();
        while (end > 0 && out.charAt(end - 1) == '-') {
            end--;
        }
        return out.substring(0, end);
    }

    /** Whether {@code label} is one RFC 1123 host label in lowercase (what {@link #label} returns). */
    public static boolean isLabel(String label) {
        return label != null && LABEL.matcher(label).matches();
    }

    /**
     * {@code domain} in its canonical form (lowercase, no trailing dot) when it can be an organization's domain:
     * two or more host labels, at most {@value #MAX_NAME_LENGTH} characters. A single label ("internal") is
     * refused: a search list would then turn every one-word name into a mesh name.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static String domain(String domain) {
        if (domain == null || domain.isBlank()) {
            throw new IllegalArgumentException("dnsDomain must not be empty");
        }
        String canonical = domain.strip().toLowerCase(Locale.ROOT);
        if (canonical.endsWith(".")) {
            canonical = canonical.substring(0, canonical.length() - 1);
        }
        if (canonical.length() > MAX_NAME_LENGTH - MAX_LABEL_LENGTH - 1) {
            throw new IllegalArgumentException("dnsDomain is too long (at most "
                    + (MAX_NAME_LENGTH - MAX_LABEL_LENGTH - 1) + " characters, so device names fit under it)");
        }
        String[] labels = canonical.split("\\.", -1);
        if (labels.length < 2) {
            throw new IllegalArgumentException("dnsDomain needs at least two labels, as in meshwork.internal: "
                    + domain);
        }
        for (String label : labels) {
            if (!isLabel(label)) {
                throw new IllegalArgumentException("dnsDomain has a label that is not a DNS host label ("
                        + "letters, digits, inner hyphens, 1-63 characters): \"" + label + "\"");
            }
        }
        return canonical;
    }

    /**
     * {@code name} (a custom record's owner name) in canonical form, absolute under {@code domain}: a relative
     * name ("www", "_sip._tcp") gets the domain appended; an absolute one must lie under the domain.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static String recordName(String name, String domain) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a record needs a name");
        }
        String canonical = name.strip().toLowerCase(Locale.ROOT);
        if (canonical.endsWith(".")) {
            canonical = canonical.substring(0, canonical.length() - 1);
        }
        if (!canonical.equals(domain) && !canonical.endsWith("." + domain)) {
            canonical = canonical + "." + domain;
        }
        if (canonical.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("record name is longer than " + MAX_NAME_LENGTH + " characters");
        }
        String relative = canonical.equals(domain) ? "" : canonical.substring(0, canonical.length() - domain.length() - 1);
        if (!relative.isEmpty()) {
            for (String label : relative.split("\\.", -1)) {
                if (!RECORD_LABEL.matcher(label).matches()) {
                    throw new IllegalArgumentException("record name has a label that is not a DNS label: \""
                            + label + "\"");
                }
            }
        }
        return canonical;
    }

    /** Whether {@code name} (canonical: lowercase, no trailing dot) is {@code domain} or under it. */
    public static boolean isUnder(String name, String domain) {
        return name.equals(domain) || name.length() > domain.length() + 1 && name.endsWith(domain)
                && name.charAt(name.length() - domain.length() - 1) == '.';
    }

    /**
     * The resolver's IPv6 address in the organization's ULA /64: interface id {@code 100:100:100:100}, far above
     * any host number IPAM hands out (at most 2^24 hosts from an IPv4 /8).
     */
    public static InetAddress serviceIpv6(Prefix ula) {
        byte[] bytes = ula.address().getAddress();
        if (bytes.length != 16) {
            throw new IllegalArgumentException("not an IPv6 prefix: " + ula);
        }
        for (int i = 8; i < 16; i += 2) {
            bytes[i] = 0x01;
            bytes[i + 1] = 0x00;
        }
        return IpLiteral.of(bytes);
    }
}
