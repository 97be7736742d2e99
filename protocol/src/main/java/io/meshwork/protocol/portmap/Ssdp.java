package io.meshwork.protocol.portmap;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * SSDP discovery of an Internet Gateway Device (UPnP Device Architecture 1.1 §1.3): an M-SEARCH multicast to
 * {@value #MULTICAST_ADDRESS}:{@value #PORT} and the unicast HTTP-over-UDP answers, of which a node needs the
 * {@code LOCATION} of the device description.
 */
public final class Ssdp {

    public static final String MULTICAST_ADDRESS = "239.255.255.250";
    public static final int PORT = 1900;
    /** The device type asked for: every IGD (version 1 or 2) answers to version 1 (UDA 1.1 §1.3.2). */
    public static final String INTERNET_GATEWAY_DEVICE = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";
    /** The largest answer read; real ones are about 400 bytes. */
    public static final int MAX_MESSAGE_BYTES = 2048;
    private static final int MAX_LOCATION_CHARS = 512;

    private Ssdp() {}

    /** An answer to an M-SEARCH: where the device description is, and the search target it answered. */
    public record Answer(URI location, String searchTarget) {}

    /** An M-SEARCH for {@link #INTERNET_GATEWAY_DEVICE}, asking for an answer within {@code mxSeconds}. */
    public static byte[] search(int mxSeconds) {
        return ("M-SEARCH * HTTP/1.1\r\n"
                + "HOST: " + MULTICAST_ADDRESS + ":" + PORT + "\r\n"
                + "MAN: \"ssdp:discover\"\r\n"
                + "MX: " + mxSeconds + "\r\n"
                + "ST: " + INTERNET_GATEWAY_DEVICE + "\r\n"
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Parses an answer: an {@code HTTP/1.1 200} status line and a {@code LOCATION} header holding an absolute
     * {@code http} URL. Header names are case-insensitive; other headers are ignored.
     */
    public static Answer parseAnswer(byte[] datagram, int length) throws PortMapParseException {
        if (length > MAX_MESSAGE_BYTES) {
            throw new PortMapParseException(PortMapParseException.Reason.OVERSIZED, length + " bytes");
        }
        String text = new String(datagram, 0, length, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r?\n");
        if (lines.length == 0 || !lines[0].matches("HTTP/1\\.[01] 200( .*)?")) {
            throw new PortMapParseException(PortMapParseException.Reason.MALFORMED_TEXT, "not an HTTP 200 answer");
        }
        String location = null;
        String target = null;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim();
            if (name.equals("location")) {
                location = value;
            } else if (name.equals("st")) {
                target = value;
            }
        }
        if (location == null || location.length() > MAX_LOCATION_CHARS) {
            throw new PortMapParseException(PortMapParseException.Reason.MALFORMED_TEXT, "no usable LOCATION");
        }
        try {
            URI uri = new URI(location);
            if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
                throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD,
                        "LOCATION is not an absolute http URL");
            }
            return new Answer(uri, target);
        } catch (URISyntaxException e) {
            throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD, "LOCATION is not a URL");
        }
    }
}
