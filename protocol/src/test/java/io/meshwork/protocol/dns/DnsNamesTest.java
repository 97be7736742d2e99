package io.meshwork.protocol.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Device labels, organization domains and record names, as control and the node both check them. */
class DnsNamesTest {

    @ParameterizedTest(name = "\"{0}\" is {1}")
    @CsvSource(delimiter = '|', value = {
        "db-1|db-1",
        "DB-1|db-1",
        "Build Server_2|build-server-2",
        "laptop.local|laptop-local",
        "--edge--|edge",
        "ünïcode box|n-code-box",
        "a  __  b|a-b"})
    void aHostnameGetsItsDnsSafeForm(String hostname, String label) {
        assertEquals(label, DnsNames.label(hostname, "d-1"));
        assertTrue(DnsNames.isLabel(label));
    }

    @Test
    void aHostnameWithNothingUsableFallsBackToTheDeviceId() {
        assertEquals("d-7f3a", DnsNames.label("###", "d-7f3a"));
        assertEquals("device", DnsNames.label("", "__"));
        assertEquals(63, DnsNames.label("x".repeat(100), "d").length());
    }

    @ParameterizedTest
    @CsvSource({"meshwork.internal,meshwork.internal", "Corp.Example.,corp.example", "a.b.c,a.b.c"})
    void aDomainIsCanonical(String domain, String canonical) {
        assertEquals(canonical, DnsNames.domain(domain));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"internal", "''", "bad_label.example", "-x.example", "a..b", "x.exa mple"})
    void aDomainThatCannotBeOneIsRefused(String domain) {
        assertThrows(IllegalArgumentException.class, () -> DnsNames.domain(domain));
    }

    @Test
    void aVeryLongDomainIsRefusedSoDeviceNamesFitUnderIt() {
        assertThrows(IllegalArgumentException.class, () -> DnsNames.domain("a".repeat(60) + "." + "b".repeat(60)
                + "." + "c".repeat(60) + ".example"));
    }

    @Test
    void recordNamesAreAbsoluteUnderTheDomain() {
        assertEquals("www.meshwork.internal", DnsNames.recordName("www", "meshwork.internal"));
        assertEquals("_pg._tcp.meshwork.internal", DnsNames.recordName("_pg._tcp", "meshwork.internal"));
        assertEquals("api.meshwork.internal", DnsNames.recordName("API.meshwork.internal.", "meshwork.internal"));
        assertEquals("meshwork.internal", DnsNames.recordName("meshwork.internal", "meshwork.internal"));
        assertThrows(IllegalArgumentException.class, () -> DnsNames.recordName("bad name", "meshwork.internal"));
        assertThrows(IllegalArgumentException.class, () -> DnsNames.recordName("", "meshwork.internal"));
    }

    @Test
    void underTheDomainMeansALabelBoundary() {
        assertTrue(DnsNames.isUnder("db.meshwork.internal", "meshwork.internal"));
        assertTrue(DnsNames.isUnder("meshwork.internal", "meshwork.internal"));
        assertFalse(DnsNames.isUnder("evilmeshwork.internal", "meshwork.internal"));
        assertFalse(DnsNames.isUnder("internal", "meshwork.internal"));
    }

    @Test
    void theIpv6ServiceAddressIsInTheUlaPrefixAboveEveryHostNumber() {
        Prefix ula = Prefix.parse("fd12:3456:789a::/64");
        assertEquals("fd12:3456:789a:0:100:100:100:100", IpLiteral.format(DnsNames.serviceIpv6(ula)));
        assertTrue(ula.contains(DnsNames.serviceIpv6(ula)));
    }
}
