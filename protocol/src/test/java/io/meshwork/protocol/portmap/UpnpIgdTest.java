package io.meshwork.protocol.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * UPnP IGD: SSDP answers, the device description and SOAP answers of a real miniupnpd 2.3.1 (captured in the lab),
 * the requests this codec builds, and hostile variants (entities, foreign control URLs, oversized input).
 */
class UpnpIgdTest {

    private static final URI LOCATION = URI.create("http://10.1.0.1:37693/rootDesc.xml");
    private static final String SSDP_ANSWER = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
            + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            + "USN: uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            + "EXT:\r\nSERVER: Debian/6.18.44-fc-v1272 UPnP/1.1 MiniUPnPd/2.3.1\r\n"
            + "LOCATION: http://10.1.0.1:37693/rootDesc.xml\r\nOPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
            + "01-NLS: 1796641596\r\nBOOTID.UPNP.ORG: 1796641596\r\nCONFIGID.UPNP.ORG: 1337\r\n\r\n";

    @Test
    void searchAsksForAnInternetGatewayDevice() {
        String search = new String(Ssdp.search(1), StandardCharsets.US_ASCII);
        assertEquals("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
                + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n", search);
    }

    @Test
    void readsMiniupnpdsSsdpAnswer() throws Exception {
        byte[] bytes = SSDP_ANSWER.getBytes(StandardCharsets.US_ASCII);
        Ssdp.Answer answer = Ssdp.parseAnswer(bytes, bytes.length);
        assertEquals(LOCATION, answer.location());
        assertEquals(Ssdp.INTERNET_GATEWAY_DEVICE, answer.searchTarget());
    }

    @Test
    void refusesSsdpAnswersWithoutAUsableLocation() {
        assertSsdpRefused("NOTIFY * HTTP/1.1\r\nLOCATION: http://10.1.0.1/\r\n\r\n");
        assertSsdpRefused("HTTP/1.1 200 OK\r\nST: x\r\n\r\n");
        assertSsdpRefused("HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n");
        assertSsdpRefused("HTTP/1.1 200 OK\r\nLOCATION: /rootDesc.xml\r\n\r\n");
        assertSsdpRefused("HTTP/1.1 200 OK\r\nLOCATION: http://[bad\r\n\r\n");
        assertSsdpRefused("HTTP/1.1 200 OK\r\nLOCATION: http://10.1.0.1/" + "a".repeat(600) + "\r\n\r\n");
        assertThrows(PortMapParseException.class, () -> Ssdp.parseAnswer(new byte[4096], 4096));
    }

    @Test
    void findsTheWanIpConnectionOfMiniupnpdsDescription() throws Exception {
        byte[] xml = resource("miniupnpd-2.3.1-rootDesc.xml");
        Optional<IgdDescription.Service> service = IgdDescription.parse(xml, xml.length, LOCATION);
        assertTrue(service.isPresent());
        assertEquals("urn:schemas-upnp-org:service:WANIPConnection:2", service.get().serviceType());
        assertEquals(URI.create("http://10.1.0.1:37693/ctl/IPConn"), service.get().controlUrl());
    }

    @Test
    void prefersVersionTwoAndFallsBackToPpp() throws Exception {
        String ppp = description("", service("urn:schemas-upnp-org:service:WANPPPConnection:1", "/ppp"));
        assertEquals("urn:schemas-upnp-org:service:WANPPPConnection:1", parse(ppp).orElseThrow().serviceType());
        String both = description("", service("urn:schemas-upnp-org:service:WANIPConnection:1", "ctl/v1")
                + service("urn:schemas-upnp-org:service:WANIPConnection:2", "/v2"));
        assertEquals(URI.create("http://10.1.0.1:37693/v2"), parse(both).orElseThrow().controlUrl());
        String relative = description("<URLBase>http://10.1.0.1:37693/base/</URLBase>",
                service("urn:schemas-upnp-org:service:WANIPConnection:1", "ctl/v1"));
        assertEquals(URI.create("http://10.1.0.1:37693/ctl/v1"), parse(relative).orElseThrow().controlUrl());
        assertTrue(parse(description("", service("urn:schemas-upnp-org:service:Layer3Forwarding:1", "/l3"))).isEmpty());
    }

    @Test
    void refusesHostileDescriptions() {
        // A control URL on another host would send the node's SOAP requests anywhere.
        assertDescriptionRefused(description("", service("urn:schemas-upnp-org:service:WANIPConnection:1",
                "http://203.0.113.7:80/ctl")), PortMapParseException.Reason.BAD_FIELD);
        assertDescriptionRefused(description("<URLBase>http://10.1.0.1:9999/</URLBase>",
                service("urn:schemas-upnp-org:service:WANIPConnection:1", "/ctl")), PortMapParseException.Reason.BAD_FIELD);
        assertDescriptionRefused(description("", service("urn:schemas-upnp-org:service:WANIPConnection:1", "")),
                PortMapParseException.Reason.BAD_FIELD);
        // No DOCTYPE at all: no external entities, no entity expansion.
        assertDescriptionRefused("<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                + "<root>&x;</root>", PortMapParseException.Reason.MALFORMED_TEXT);
        assertDescriptionRefused("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>"
                + "<r>&b;</r>", PortMapParseException.Reason.MALFORMED_TEXT);
        assertDescriptionRefused("<root><device>", PortMapParseException.Reason.MALFORMED_TEXT);
        assertDescriptionRefused("", PortMapParseException.Reason.MALFORMED_TEXT);
        PortMapParseException oversized = assertThrows(PortMapParseException.class,
                () -> IgdDescription.parse(new byte[IgdDescription.MAX_BYTES + 1], IgdDescription.MAX_BYTES + 1, LOCATION));
        assertEquals(PortMapParseException.Reason.OVERSIZED, oversized.reason());
    }

    @Test
    void buildsTheSoapRequestsMiniupnpdTakes() throws Exception {
        String type = "urn:schemas-upnp-org:service:WANIPConnection:2";
        String add = new String(IgdSoap.addPortMapping(type, 51820, InetAddress.getByName("10.1.0.10"), 51820,
                "meshwork", 7200), StandardCharsets.UTF_8);
        assertEquals("<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
                + "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\"><NewRemoteHost></NewRemoteHost>"
                + "<NewExternalPort>51820</NewExternalPort><NewProtocol>UDP</NewProtocol>"
                + "<NewInternalPort>51820</NewInternalPort><NewInternalClient>10.1.0.10</NewInternalClient>"
                + "<NewEnabled>1</NewEnabled><NewPortMappingDescription>meshwork</NewPortMappingDescription>"
                + "<NewLeaseDuration>7200</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>\r\n", add);
        assertEquals("\"urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping\"",
                IgdSoap.soapAction(type, "AddPortMapping"));
        String delete = new String(IgdSoap.deletePortMapping(type, 51820), StandardCharsets.UTF_8);
        assertTrue(delete.contains("<u:DeletePortMapping xmlns:u=\"" + type + "\"><NewRemoteHost></NewRemoteHost>"
                + "<NewExternalPort>51820</NewExternalPort><NewProtocol>UDP</NewProtocol></u:DeletePortMapping>"));
        assertTrue(new String(IgdSoap.getExternalIpAddress(type), StandardCharsets.UTF_8)
                .contains("<u:GetExternalIPAddress xmlns:u=\"" + type + "\"></u:GetExternalIPAddress>"));
    }

    @Test
    void readsMiniupnpdsSoapAnswers() throws Exception {
        byte[] address = resource("miniupnpd-2.3.1-GetExternalIPAddress.xml");
        assertEquals(InetAddress.getByName("192.0.3.201"), IgdSoap.externalIpAddress(address, address.length));
        byte[] fault = resource("miniupnpd-2.3.1-AddPortMapping-718.xml");
        IgdSoap.Outcome outcome = IgdSoap.outcome(500, fault, fault.length);
        assertFalse(outcome.success());
        assertEquals(IgdSoap.CONFLICT_IN_MAPPING_ENTRY, outcome.errorCode());
        assertEquals("ConflictInMappingEntry", outcome.errorDescription());
        assertTrue(IgdSoap.outcome(200, new byte[0], 0).success());
    }

    @Test
    void refusesHostileSoapAnswers() {
        byte[] name = ("<Envelope><Body><r><NewExternalIPAddress>evil.example</NewExternalIPAddress></r></Body>"
                + "</Envelope>").getBytes(StandardCharsets.UTF_8);
        assertThrows(PortMapParseException.class, () -> IgdSoap.externalIpAddress(name, name.length));
        byte[] badCode = "<Fault><errorCode>7x</errorCode></Fault>".getBytes(StandardCharsets.UTF_8);
        assertThrows(PortMapParseException.class, () -> IgdSoap.outcome(500, badCode, badCode.length));
        byte[] html = "<html><body>nope".getBytes(StandardCharsets.UTF_8);
        assertThrows(PortMapParseException.class, () -> IgdSoap.outcome(500, html, html.length));
        assertThrows(PortMapParseException.class,
                () -> IgdSoap.externalIpAddress(new byte[IgdSoap.MAX_BYTES + 1], IgdSoap.MAX_BYTES + 1));
    }

    private static Optional<IgdDescription.Service> parse(String xml) throws PortMapParseException {
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        return IgdDescription.parse(bytes, bytes.length, LOCATION);
    }

    private static void assertDescriptionRefused(String xml, PortMapParseException.Reason reason) {
        PortMapParseException e = assertThrows(PortMapParseException.class, () -> parse(xml));
        assertEquals(reason, e.reason());
    }

    private static void assertSsdpRefused(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        assertThrows(PortMapParseException.class, () -> Ssdp.parseAnswer(bytes, bytes.length));
    }

    private static String description(String urlBase, String services) {
        return "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">" + urlBase
                + "<device><deviceList><device><serviceList>" + services + "</serviceList></device></deviceList>"
                + "</device></root>";
    }

    private static String service(String type, String controlUrl) {
        return "<service><serviceType>" + type + "</serviceType><controlURL>" + controlUrl + "</controlURL></service>";
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = UpnpIgdTest.class.getResourceAsStream("/portmap/" + name)) {
            return in.readAllBytes();
        }
    }
}
