package io.meshwork.tests.netcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.lab.Coturn;
import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code meshwork netcheck} in real NAT conditions: hosts on the open internet and behind iptables gateways
 * probe a stock coturn with two public addresses. Each report must match the gateway's known behaviour and
 * agree with the Debian {@code stun} client run from the same host.
 */
class NetcheckLabTest {

    private static final String NETCHECK = "io.meshwork.node.cli.NetcheckCommand";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Lab lab;
    private static Coturn coturn;
    private static Host open;
    private static Host behindEndpointIndependent;
    private static Host behindSymmetric;
    private static Host behindUdpBlock;

    @BeforeAll
    static void buildLab() {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("turnserver", "stun");
        lab = Lab.create("mwnc");
        Host stunServer = lab.publicHost("stun", "203.0.113.10", "203.0.113.11");
        open = lab.publicHost("open", "203.0.113.20");
        behindEndpointIndependent = lab.site("eim", NatKind.ENDPOINT_INDEPENDENT).host("a");
        behindSymmetric = lab.site("sym", NatKind.SYMMETRIC).host("a");
        Site blocked = lab.site("udpblk", NatKind.UDP_BLOCKED);
        behindUdpBlock = blocked.host("a");
        coturn = Coturn.start(stunServer, 3478, "203.0.113.10", "203.0.113.11");
    }

    @AfterAll
    static void tearDown() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void hostWithoutNatIsOpen() throws Exception {
        JsonNode report = netcheck(open, 0);
        assertEquals(true, report.get("udp").asBoolean(), report.toString());
        assertEquals("endpointindependent", normalized(report.get("mapping")), report.toString());
        assertEquals("endpointindependent", normalized(report.get("filtering")), report.toString());
        assertEquals("open", normalized(report.get("classic")), report.toString());
        assertTrue(report.get("publicEndpoints").toString().contains("203.0.113.20"), report.toString());
        assertAgreesWithStunClient(open, report);
    }

    @Test
    void masqueradeIsEndpointIndependentMappingWithPortRestrictedFiltering() throws Exception {
        JsonNode report = netcheck(behindEndpointIndependent, 0);
        assertEquals(true, report.get("udp").asBoolean(), report.toString());
        assertEquals("endpointindependent", normalized(report.get("mapping")), report.toString());
        assertEquals("addressandportdependent", normalized(report.get("filtering")), report.toString());
        assertEquals("portrestrictedcone", normalized(report.get("classic")), report.toString());
        assertEquals(true, report.get("portPreserving").asBoolean(), report.toString());
        assertTrue(report.get("publicEndpoints").toString().contains("203.0.113.201"), report.toString());
        assertAgreesWithStunClient(behindEndpointIndependent, report);
    }

    @Test
    void randomFullyIsSymmetric() throws Exception {
        JsonNode report = netcheck(behindSymmetric, 0);
        assertEquals(true, report.get("udp").asBoolean(), report.toString());
        assertTrue(normalized(report.get("mapping")).endsWith("dependent"), report.toString());
        assertEquals("symmetric", normalized(report.get("classic")), report.toString());
        assertEquals(false, report.get("portPreserving").asBoolean(), report.toString());
        assertAgreesWithStunClient(behindSymmetric, report);
    }

    @Test
    void droppedUdpIsReportedAsBlockedWithItsOwnExitCode() throws Exception {
        JsonNode report = netcheck(behindUdpBlock, 1);
        assertEquals(false, report.get("udp").asBoolean(), report.toString());
        assertEquals("blocked", normalized(report.get("classic")), report.toString());
        assertAgreesWithStunClient(behindUdpBlock, report);
    }

    private static JsonNode netcheck(Host host, int expectedExitCode) throws Exception {
        ExecResult result = host.javaExec(Duration.ofSeconds(60), NETCHECK,
                "--stun", "203.0.113.10:3478", "--stun", "203.0.113.11:3478", "--json");
        assertEquals(expectedExitCode, result.exitCode(), result.describe());
        return JSON.readTree(result.stdout());
    }

    /**
     * The Debian stun client prints one summary line, e.g. "Primary: Independent Mapping, Port Dependent
     * Filter, preserves ports, no hairpin", "Primary: Dependent Mapping, random port, no hairpin", "Primary:
     * Open" or "Primary: Blocked or could not reach STUN server".
     */
    private static void assertAgreesWithStunClient(Host host, JsonNode ours) {
        ExecResult stun = host.exec(Duration.ofSeconds(60), "stun", "203.0.113.10", "-p", "3478");
        String summary = stun.stdout().lines().filter(line -> line.startsWith("Primary:")).findFirst()
                .orElseThrow(() -> new AssertionError("no summary from the stun client: " + stun.describe()));
        String theirs = summary.toLowerCase(Locale.ROOT);
        String context = "stun client said \"" + summary.strip() + "\", netcheck said " + ours;
        if (!ours.get("udp").asBoolean()) {
            assertTrue(theirs.contains("blocked"), context);
            return;
        }
        String mapping = normalized(ours.get("mapping"));
        String filtering = normalized(ours.get("filtering"));
        if (theirs.contains("open")) {
            assertEquals("open", normalized(ours.get("classic")), context);
            return;
        }
        if (theirs.contains("independent mapping")) {
            assertEquals("endpointindependent", mapping, context);
            if (theirs.contains("port dependent filter")) {
                assertEquals("addressandportdependent", filtering, context);
            } else if (theirs.contains("address dependent filter")) {
                assertEquals("addressdependent", filtering, context);
            } else if (theirs.contains("independent filter")) {
                assertEquals("endpointindependent", filtering, context);
            }
        } else if (theirs.contains("dependent mapping")) {
            assertTrue(mapping.endsWith("dependent") && !mapping.equals("endpointindependent"), context);
        } else {
            throw new AssertionError("unexpected stun client summary: " + context);
        }
        assertEquals(theirs.contains("preserves ports"), ours.get("portPreserving").asBoolean(), context);
    }

    /** "ENDPOINT_INDEPENDENT", "endpoint-independent" and "Endpoint Independent" all become "endpointindependent". */
    private static String normalized(JsonNode value) {
        return value == null ? "<missing>" : value.asText().toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "");
    }
}
