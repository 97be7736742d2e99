package io.meshwork.control.organization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.api.SecurityPolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecurityPoliciesTest {

    private static Organization.DeviceRecord device(String id, String hostname, int host, String status,
            String... tags) {
        return new Organization.DeviceRecord(id, "key-" + id, hostname,
                List.of("100.64.0." + host, "fd00:1::" + Integer.toHexString(host)), "token", List.of(), Map.of(),
                Map.of(), status, 0, 0, null, null, List.of(tags));
    }

    private static final Map<String, Organization.DeviceRecord> DEVICES = devices(
            device("d-web1", "web1", 1, Organization.DeviceRecord.ACTIVE, "web"),
            device("d-web2", "web2", 2, Organization.DeviceRecord.ACTIVE),
            device("d-old", "web3", 3, Organization.DeviceRecord.REVOKED, "web"),
            device("d-db", "db", 4, Organization.DeviceRecord.ACTIVE),
            device("d-laptop", "laptop", 5, Organization.DeviceRecord.ACTIVE));

    private static Map<String, Organization.DeviceRecord> devices(Organization.DeviceRecord... records) {
        Map<String, Organization.DeviceRecord> map = new LinkedHashMap<>();
        for (Organization.DeviceRecord record : records) {
            map.put(record.id(), record);
        }
        return map;
    }

    private static Map<String, Organization.SecurityGroup> groups(Organization.SecurityGroup... groups) {
        Map<String, Organization.SecurityGroup> map = new LinkedHashMap<>();
        for (Organization.SecurityGroup group : groups) {
            map.put(group.name(), group);
        }
        return map;
    }

    private static final Organization.SecurityGroup WEB = new Organization.SecurityGroup("web",
            List.of("tag:web", "d-web2"),
            List.of(new Organization.Rule("tcp", "443", List.of("10.1.2.3/8", "2001:db8::1/32"))));
    private static final Organization.SecurityGroup DATABASE = new Organization.SecurityGroup("database",
            List.of("d-db"),
            List.of(new Organization.Rule("tcp", "5432-5433", List.of("group:web")),
                    new Organization.Rule("icmp", null, List.of("group:web", "group:missing"))));

    @Test
    void aDeviceNoGroupAppliesToIsOpen() {
        assertEquals(SecurityPolicy.OPEN, SecurityPolicies.effectiveFor(Map.of(), DEVICES, "d-db"));
        assertEquals(SecurityPolicy.OPEN, SecurityPolicies.effectiveFor(groups(WEB, DATABASE), DEVICES, "d-laptop"));
        assertEquals(SecurityPolicy.OPEN, SecurityPolicies.effectiveFor(groups(WEB), DEVICES, "unknown"));
        assertFalse(SecurityPolicy.OPEN.enforced());
    }

    @Test
    void groupsApplyByTagIdOrStarButNeverToRevokedDevicesNorByHostname() {
        assertTrue(SecurityPolicies.effectiveFor(groups(WEB), DEVICES, "d-web1").enforced(), "by tag");
        assertTrue(SecurityPolicies.effectiveFor(groups(WEB), DEVICES, "d-web2").enforced(), "by id");
        assertFalse(SecurityPolicies.effectiveFor(groups(WEB), DEVICES, "d-old").enforced(), "revoked");
        Organization.SecurityGroup everyone = new Organization.SecurityGroup("everyone", List.of("*"),
                List.of(new Organization.Rule("any", null, List.of("100.64.0.0/10"))));
        SecurityPolicy laptop = SecurityPolicies.effectiveFor(groups(WEB, everyone), DEVICES, "d-laptop");
        assertEquals(List.of("everyone"), laptop.groups());
        assertEquals(List.of(new PolicyRule("any", 0, 65535, List.of("100.64.0.0/10"))), laptop.rules());
        Organization.SecurityGroup byHostname = new Organization.SecurityGroup("named", List.of("laptop"),
                List.of(new Organization.Rule("any", null, List.of("*"))));
        assertFalse(SecurityPolicies.effectiveFor(groups(byHostname), DEVICES, "d-laptop").enforced(),
                "a hostname is no reference: it would let a device claim a membership");
    }

    @Test
    void cidrsAreCanonicalAndGroupReferencesExpandToActiveMembersOverlayAddresses() {
        SecurityPolicy web = SecurityPolicies.effectiveFor(groups(WEB, DATABASE), DEVICES, "d-web1");
        assertEquals(List.of("web"), web.groups());
        assertEquals(List.of(new PolicyRule("tcp", 443, 443, List.of("10.0.0.0/8", "2001:db8::/32"))),
                web.rules());

        SecurityPolicy db = SecurityPolicies.effectiveFor(groups(WEB, DATABASE), DEVICES, "d-db");
        List<String> webMembers = List.of("100.64.0.1/32", "100.64.0.2/32", "fd00:1::1/128", "fd00:1::2/128");
        assertEquals(List.of(new PolicyRule("tcp", 5432, 5433, webMembers),
                new PolicyRule("icmp", 0, 65535, webMembers)), db.rules(),
                "web3 is revoked and group:missing names nothing, so neither adds addresses");
    }

    @Test
    void peerMapsHoldExactlyTheDevicesEitherSideMayReach() {
        var index = SecurityPolicies.index(groups(WEB, DATABASE), DEVICES.values());
        assertEquals(java.util.Set.of("d-web1", "d-web2", "d-laptop"), index.visibleTo("d-db"),
                "the web servers may reach the database, and the laptop accepts anything");
        assertEquals(java.util.Set.of("d-web1", "d-web2", "d-db"), index.visibleTo("d-laptop"),
                "the laptop is open: every other device may reach it");
        assertFalse(index.contains("d-old"), "a revoked device is in no map");
        Organization.SecurityGroup closed = new Organization.SecurityGroup("closed", List.of("d-laptop"),
                List.of(new Organization.Rule("tcp", "22", List.of("d-web1"))));
        var closedIndex = SecurityPolicies.index(groups(WEB, DATABASE, closed), DEVICES.values());
        assertEquals(java.util.Set.of("d-web1"), closedIndex.visibleTo("d-laptop"),
                "a laptop that accepts ssh from web1 alone, and that nobody accepts from, learns web1 only");
        assertFalse(closedIndex.visible("d-laptop", "d-db"));
    }

    @Test
    void portsAndCidrForms() {
        assertEquals(List.of(0, 65535), List.of(SecurityPolicies.ports(null)[0], SecurityPolicies.ports(null)[1]));
        assertEquals(List.of(0, 65535), List.of(SecurityPolicies.ports("*")[0], SecurityPolicies.ports("*")[1]));
        assertEquals(List.of(22, 22), List.of(SecurityPolicies.ports("22")[0], SecurityPolicies.ports("22")[1]));
        assertEquals(List.of(8000, 8100),
                List.of(SecurityPolicies.ports("8000-8100")[0], SecurityPolicies.ports("8000-8100")[1]));
        assertEquals("::ffff:0:0/96", SecurityPolicies.canonicalCidr("::ffff:0:0/96"));
        assertEquals("192.168.0.0/16", SecurityPolicies.canonicalCidr("192.168.7.9/16"));
        assertEquals("0.0.0.0/0", SecurityPolicies.canonicalCidr("8.8.8.8/0"));
    }
}
