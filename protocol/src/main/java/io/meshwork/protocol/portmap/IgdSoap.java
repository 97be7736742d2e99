package io.meshwork.protocol.portmap;

import io.meshwork.protocol.net.IpLiteral;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.w3c.dom.Document;

/**
 * The SOAP actions of a WAN connection service (IGD WANIPConnection:1/2) a node calls: AddPortMapping,
 * GetExternalIPAddress and DeletePortMapping, their request bodies and the answers (UPnP Device Architecture 1.1
 * §3.2). Values are written by this codec from numbers, addresses and a fixed description, so no escaping is needed.
 */
public final class IgdSoap {

    /** The largest answer read. */
    public static final int MAX_BYTES = 16 * 1024;
    /** UPnP error 725 (IGD 1.0): the gateway only takes mappings with lease duration 0 (permanent). */
    public static final int ONLY_PERMANENT_LEASES_SUPPORTED = 725;
    /** UPnP error 718: the external port is mapped to another client. */
    public static final int CONFLICT_IN_MAPPING_ENTRY = 718;

    private IgdSoap() {}

    /** What a SOAP answer said: success, or a fault with its UPnP error code (0 when none was given). */
    public record Outcome(boolean success, int errorCode, String errorDescription) {}

    /** The {@code SOAPAction} header of {@code action} on {@code serviceType}, quotes included. */
    public static String soapAction(String serviceType, String action) {
        return "\"" + serviceType + "#" + action + "\"";
    }

    public static byte[] addPortMapping(String serviceType, int externalPort, InetAddress internalClient,
            int internalPort, String description, long leaseSeconds) {
        return envelope(serviceType, "AddPortMapping",
                "<NewRemoteHost></NewRemoteHost>"
                + "<NewExternalPort>" + externalPort + "</NewExternalPort>"
                + "<NewProtocol>UDP</NewProtocol>"
                + "<NewInternalPort>" + internalPort + "</NewInternalPort>"
                + "<NewInternalClient>" + internalClient.getHostAddress() + "</NewInternalClient>"
                + "<NewEnabled>1</NewEnabled>"
                + "<NewPortMappingDescription>" + description + "</NewPortMappingDescription>"
                + "<NewLeaseDuration>" + leaseSeconds + "</NewLeaseDuration>");
    }

    public static byte[] deletePortMapping(String serviceType, int externalPort) {
        return envelope(serviceType, "DeletePortMapping",
                "<NewRemoteHost></NewRemoteHost>"
                + "<NewExternalPort>" + externalPort + "</NewExternalPort>"
                + "<NewProtocol>UDP</NewProtocol>");
    }

    public static byte[] getExternalIpAddress(String serviceType) {
        return envelope(serviceType, "GetExternalIPAddress", "");
    }

    /**
     * The outcome of an action from the HTTP status and body: 200 is success; otherwise the {@code UPnPError} in
     * the SOAP fault names the error (§3.2.2).
     */
    public static Outcome outcome(int httpStatus, byte[] body, int length) throws PortMapParseException {
        if (httpStatus == 200) {
            return new Outcome(true, 0, null);
        }
        checkSize(length);
        Document document = SafeXml.parse(body, length);
        String code = IgdDescription.firstText(document.getDocumentElement(), "errorCode");
        String description = IgdDescription.firstText(document.getDocumentElement(), "errorDescription");
        int errorCode = 0;
        if (code != null) {
            try {
                errorCode = Integer.parseInt(code.strip());
            } catch (NumberFormatException e) {
                throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD, "errorCode " + code);
            }
        }
        return new Outcome(false, errorCode, description == null ? "HTTP " + httpStatus
                : description.strip().substring(0, Math.min(64, description.strip().length())));
    }

    /** The address in a GetExternalIPAddress answer: an IPv4 literal (never a name, which would need DNS). */
    public static InetAddress externalIpAddress(byte[] body, int length) throws PortMapParseException {
        checkSize(length);
        Document document = SafeXml.parse(body, length);
        String text = IgdDescription.firstText(document.getDocumentElement(), "NewExternalIPAddress");
        if (text == null || !text.strip().matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD, "no IPv4 NewExternalIPAddress");
        }
        try {
            return IpLiteral.parse(text.strip());
        } catch (IllegalArgumentException e) {
            throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD, "NewExternalIPAddress " + text);
        }
    }

    private static void checkSize(int length) throws PortMapParseException {
        if (length > MAX_BYTES) {
            throw new PortMapParseException(PortMapParseException.Reason.OVERSIZED, length + " bytes");
        }
    }

    private static byte[] envelope(String serviceType, String action, String arguments) {
        return ("<?xml version=\"1.0\"?>\r\n"
                + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
                + "<s:Body><u:" + action + " xmlns:u=\"" + serviceType + "\">" + arguments + "</u:" + action + ">"
                + "</s:Body></s:Envelope>\r\n").getBytes(StandardCharsets.UTF_8);
    }
}
