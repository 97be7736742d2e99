package io.meshwork.node.netcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.node.portmap.PortMapProbe;
import io.meshwork.protocol.nat.ClassicNatType;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.nat.NatReport;
import io.meshwork.protocol.portmap.PortMapProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@code meshwork netcheck} says of the gateway's port-mapping protocols, in text and JSON. */
class NetcheckPortMappingFormatTest {

    private static final NetcheckResult RESULT = new NetcheckResult(new NatReport(true,
            List.of(new InetSocketAddress("192.0.3.201", 40001), new InetSocketAddress("192.0.3.201", 40002)),
            MappingBehavior.ADDRESS_AND_PORT_DEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, Optional.of(false),
            Optional.empty(), false, ClassicNatType.SYMMETRIC), List.of(new InetSocketAddress("10.1.0.10", 51820)),
            List.of(), Duration.ofMillis(900));

    @Test
    void namesTheProtocolsTheGatewayAnswered() throws Exception {
        PortMapProbe.Answers answers = new PortMapProbe.Answers(InetAddress.getByName("10.1.0.1"),
                List.of(PortMapProtocol.PCP, PortMapProtocol.NAT_PMP, PortMapProtocol.UPNP),
                InetAddress.getByName("192.0.3.201"));
        String text = NetcheckReportFormat.text(RESULT, Optional.of(answers));
        assertTrue(text.contains("Port mapping:     gateway 10.1.0.1 answers PCP, NAT-PMP, UPnP-IGD (external address "
                + "192.0.3.201)\nServers:"), text);
        JsonNode json = new ObjectMapper().readTree(NetcheckReportFormat.json(RESULT, Optional.of(answers)));
        assertEquals("10.1.0.1", json.at("/portMapping/gateway").asText());
        assertTrue(json.at("/portMapping/pcp").asBoolean());
        assertTrue(json.at("/portMapping/natPmp").asBoolean());
        assertTrue(json.at("/portMapping/upnp").asBoolean());
        assertEquals("192.0.3.201", json.at("/portMapping/externalAddress").asText());
        assertEquals("ADDRESS_AND_PORT_DEPENDENT", json.get("mapping").asText(), "the NAT report is all there too");
    }

    @Test
    void aSilentGatewayAndNoGatewayAreSaidSo() throws Exception {
        PortMapProbe.Answers silent = new PortMapProbe.Answers(InetAddress.getByName("10.1.0.1"), List.of(), null);
        assertTrue(NetcheckReportFormat.text(RESULT, Optional.of(silent))
                .contains("gateway 10.1.0.1 answers none of PCP, NAT-PMP, UPnP-IGD"));
        assertTrue(NetcheckReportFormat.text(RESULT, Optional.empty()).contains("no default gateway to ask"));
        JsonNode json = new ObjectMapper().readTree(NetcheckReportFormat.json(RESULT, Optional.empty()));
        assertTrue(json.at("/portMapping/gateway").isNull());
        assertFalse(json.at("/portMapping/pcp").asBoolean());
        assertFalse(new ObjectMapper().readTree(NetcheckReportFormat.json(RESULT)).has("portMapping"),
                "the NAT report a node sends control has no port-mapping field");
    }
}
