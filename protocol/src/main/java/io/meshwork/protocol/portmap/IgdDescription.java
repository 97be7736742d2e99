package io.meshwork.protocol.portmap;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The part of an Internet Gateway Device's description (UPnP Device Architecture 1.1 §2.3) a node needs: the
 * control URL of its WAN connection service, WANIPConnection:2, else :1, else WANPPPConnection:1 (IGD 1.0 and 2.0).
 */
public final class IgdDescription {

    /** The largest description read; miniupnpd's has about 3 KiB. */
    public static final int MAX_BYTES = 64 * 1024;
    /** The services that map ports, most preferred first. */
    public static final List<String> CONNECTION_SERVICES = List.of(
            "urn:schemas-upnp-org:service:WANIPConnection:2",
            "urn:schemas-upnp-org:service:WANIPConnection:1",
            "urn:schemas-upnp-org:service:WANPPPConnection:1");
    private static final int MAX_URL_CHARS = 512;

    private IgdDescription() {}

    /** A WAN connection service: its type (the SOAP namespace) and its absolute control URL. */
    public record Service(String serviceType, URI controlUrl) {}

    /**
     * The preferred connection service in the description fetched from {@code location}; empty when it has none.
     * The control URL is resolved against {@code URLBase} or {@code location} and must stay on the host and port
     * that served the description: a description may not send the node's requests anywhere else.
     */
    public static Optional<Service> parse(byte[] xml, int length, URI location) throws PortMapParseException {
        if (length > MAX_BYTES) {
            throw new PortMapParseException(PortMapParseException.Reason.OVERSIZED, length + " bytes");
        }
        Document document = SafeXml.parse(xml, length);
        URI base = location;
        String urlBase = firstText(document.getDocumentElement(), "URLBase");
        if (urlBase != null && !urlBase.isBlank()) {
            base = resolve(location, urlBase.strip());
        }
        NodeList services = document.getElementsByTagNameNS("*", "service");
        for (String wanted : CONNECTION_SERVICES) {
            for (int i = 0; i < services.getLength(); i++) {
                Element service = (Element) services.item(i);
                if (wanted.equals(text(service, "serviceType"))) {
                    String control = text(service, "controlURL");
                    if (control == null || control.isBlank()) {
                        throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD,
                                wanted + " has no controlURL");
                    }
                    URI controlUrl = resolve(base, control.strip());
                    if (!Objects.equals(controlUrl.getHost(), location.getHost())
                            || controlUrl.getPort() != location.getPort()
                            || !"http".equalsIgnoreCase(controlUrl.getScheme())) {
                        throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD,
                                "control URL " + controlUrl + " is not on the device " + location.getAuthority());
                    }
                    return Optional.of(new Service(wanted, controlUrl));
                }
            }
        }
        return Optional.empty();
    }

    private static URI resolve(URI base, String reference) throws PortMapParseException {
        if (reference.length() > MAX_URL_CHARS) {
            throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD, "URL too long");
        }
        try {
            return base.resolve(reference.startsWith("/") || reference.contains("://") ? reference : "/" + reference);
        } catch (IllegalArgumentException e) {
            throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD, "not a URL: " + reference);
        }
    }

    /** The text of the first direct child element named {@code name}, or null. */
    private static String text(Element parent, String name) {
        for (Node child = parent.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child instanceof Element element && name.equals(element.getLocalName())) {
                return element.getTextContent();
            }
        }
        return null;
    }

    /** The text of the first element named {@code name} anywhere below {@code root}, or null. */
    static String firstText(Element root, String name) {
        NodeList found = root.getElementsByTagNameNS("*", name);
        return found.getLength() == 0 ? null : found.item(0).getTextContent();
    }
}
