package io.meshwork.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code meshwork admin} against a running control server: every subcommand, refusals and bad usage. */
class AdminCommandTest {

    private static final String ADMIN = "mwa.admin-cli";
    private static AdminControl control;

    @BeforeAll
    static void start() throws Exception {
        control = new AdminControl(ADMIN, "mw-admin");
    }

    @AfterAll
    static void stop() {
        control.close();
    }

    private static AdminRun admin(String... args) {
        return control.admin(args);
    }

    @Test
    void organizationsKeysAndDevicesFromTheCommandLine() throws Exception {
        AdminRun created = admin("orgs", "create", "cli-acme");
        assertEquals(0, created.exit(), created.err());
        String org = created.json().get("id").asText();
        assertTrue(created.json().get("apiToken").asText().startsWith("mwo."), created.out());

        AdminRun listed = admin("orgs", "list", "--name", "cli-acme");
        assertEquals(0, listed.exit(), listed.err());
        assertTrue(listed.out().contains(org), listed.out());
        assertEquals("cli-acme", admin("orgs", "get", org).json().get("name").asText());

        AdminRun key = admin("keys", "create", org, "--reusable", "--expires-in", "3600");
        assertEquals(0, key.exit(), key.err());
        assertTrue(key.json().get("key").asText().startsWith("mwk."), key.out());
        AdminRun keys = admin("keys", "list", org);
        assertEquals(0, keys.exit(), keys.err());
        String keyId = key.json().get("id").asText();
        assertTrue(keys.out().contains(keyId), keys.out());
        assertEquals(0, admin("keys", "revoke", org, keyId).exit());

        AdminRun devices = admin("devices", "list", org);
        assertEquals(0, devices.exit(), devices.err());
        assertEquals(0, devices.json().get("total").asInt(), devices.out());

        assertEquals(0, admin("orgs", "delete", org).exit());
    }

    @Test
    void aDeviceOfAnApprovalKeyIsListedAsPendingAndApprovedFromTheCommandLine() throws Exception {
        String org = admin("orgs", "create", "cli-gated").json().get("id").asText();
        AdminRun key = admin("keys", "create", org, "--approval");
        assertEquals(0, key.exit(), key.err());
        assertTrue(key.json().get("approvalRequired").asBoolean(), key.out());
        String device = control.register(key.json().get("key").asText(), "gated").get("id").asText();

        AdminRun pending = admin("devices", "list", org, "--status", "pending");
        assertEquals(0, pending.exit(), pending.err());
        assertTrue(pending.out().contains(device), pending.out());
        AdminRun approved = admin("devices", "approve", device);
        assertEquals(0, approved.exit(), approved.err());
        assertEquals("active", approved.json().get("status").asText(), approved.out());
        assertEquals(0, admin("devices", "list", org, "--status", "pending").json().get("total").asInt());
    }

    @Test
    void keysStampTagsAndDevicesAreTaggedFromTheCommandLine() throws Exception {
        String org = admin("orgs", "create", "cli-tags").json().get("id").asText();
        AdminRun key = admin("keys", "create", org, "--tag", "web", "--tag", "prod");
        assertEquals(0, key.exit(), key.err());
        assertEquals("[\"prod\",\"web\"]", key.json().get("tags").toString(), key.out());
        String device = control.register(key.json().get("key").asText(), "tagged").get("id").asText();

        AdminRun tagged = admin("devices", "tag", device, "db", "eu-west");
        assertEquals(0, tagged.exit(), tagged.err());
        assertEquals("[\"db\",\"eu-west\"]", tagged.json().get("tags").toString(), tagged.out());
        assertEquals(AdminCommand.REFUSED, admin("devices", "tag", device, "Not A Tag").exit());
        AdminRun cleared = admin("devices", "tag", device);
        assertEquals(0, cleared.exit(), cleared.err());
        assertEquals("[]", cleared.json().get("tags").toString());
        AdminRun relaying = admin("devices", "relay", device, "on");
        assertEquals(0, relaying.exit(), relaying.err());
        assertEquals(true, relaying.json().get("relayAllowed").asBoolean(), relaying.out());
        assertEquals(false, admin("devices", "relay", device, "off").json().get("relayAllowed").asBoolean());
        assertEquals(2, admin("devices", "relay", device, "maybe").exit(), "a usage error");
        AdminRun peers = admin("devices", "peers", device);
        assertEquals(0, peers.exit(), peers.err());
        assertEquals(0, peers.json().get("total").asInt(), "alone in its organization: " + peers.out());
    }

    @Test
    void routesAreListedApprovedRejectedAndAutoApprovedFromTheCommandLine() throws Exception {
        String org = admin("orgs", "create", "cli-routes").json().get("id").asText();
        AdminRun key = admin("keys", "create", org, "--reusable", "--tag", "edge",
                "--auto-approve-routes", "192.168.0.0/16,10.9.0.0/16");
        assertEquals(0, key.exit(), key.err());
        assertEquals("[\"10.9.0.0/16\",\"192.168.0.0/16\"]", key.json().at("/autoApproveRoutes/routes").toString());
        var device = control.register(key.json().get("key").asText(), "gateway");
        String id = device.get("id").asText();
        assertEquals("no device advertises routes\n", admin("routes", "list", org).out());
        var advertised = control.post("/api/v1/devices/self/routes", device.get("token").asText(),
                "{\"routes\":[\"192.168.1.0/24\",\"172.16.0.0/12\"],\"exitNode\":true}");
        assertEquals(200, advertised.statusCode(), advertised.body());

        AdminRun listed = admin("routes", "list", org);
        assertEquals(0, listed.exit(), listed.err());
        assertTrue(listed.out().contains("gateway  " + id + "  online"), listed.out());
        assertTrue(listed.out().contains("approved:   192.168.1.0/24\n"), listed.out());
        assertTrue(listed.out().contains("pending:    172.16.0.0/12 0.0.0.0/0 ::/0\n"), listed.out());

        AdminRun approved = admin("routes", "approve", id, "172.16.0.0/12", "--exit-node");
        assertEquals(0, approved.exit(), approved.err());
        assertTrue(approved.json().get("exitNode").asBoolean(), approved.out());
        assertEquals("[\"172.16.0.0/12\",\"192.168.1.0/24\"]", approved.json().get("primary").toString());
        AdminRun rejected = admin("routes", "reject", id, "192.168.1.0/24");
        assertEquals(0, rejected.exit(), rejected.err());
        assertEquals("[\"192.168.1.0/24\"]", rejected.json().get("pending").toString());
        AdminRun notAdvertised = admin("routes", "approve", id, "10.1.0.0/16");
        assertEquals(AdminCommand.REFUSED, notAdvertised.exit());
        assertTrue(notAdvertised.err().contains("does not advertise"), notAdvertised.err());
        assertEquals(2, admin("routes", "approve", id).exit(), "a prefix or --exit-node is needed");

        AdminRun auto = admin("routes", "auto-approve", org, "edge", "10.0.0.0/8", "--exit-node");
        assertEquals(0, auto.exit(), auto.err());
        assertTrue(auto.json().at("/tags/edge/exitNode").asBoolean(), auto.out());
        assertTrue(admin("routes", "approvers", org).out().contains("10.0.0.0/8"));
        assertEquals(0, admin("routes", "auto-approve", org, "edge").exit());
        assertEquals("{}", admin("routes", "approvers", org).json().get("tags").toString());
        AdminRun devices = admin("devices", "list", org);
        assertEquals("[\"172.16.0.0/12\"]", devices.json().at("/devices/0/routes/primary").toString(),
                devices.out());
    }

    @Test
    void refusalsSayWhyAndExitOne() {
        AdminRun missing = admin("orgs", "get", "o-nothing-here");
        assertEquals(AdminCommand.REFUSED, missing.exit());
        assertTrue(missing.err().startsWith("meshwork admin: 404 "), missing.err());
        AdminRun device = admin("devices", "revoke", "d-nothing-here");
        assertEquals(AdminCommand.REFUSED, device.exit());
        assertTrue(device.err().contains("404"), device.err());
    }

    @Test
    void badUsageAndAnUnreachableControlAreToldApart() {
        StringWriter err = new StringWriter();
        CommandLine command = new CommandLine(new AdminCommand());
        command.setErr(new PrintWriter(err, true));
        assertEquals(2, command.execute("--control", control.url, "--token", ADMIN, "keys", "create"),
                "ORG is required");

        AdminRun unreachable = new AdminRun(new CommandLine(new AdminCommand()).execute("--control", "http://127.0.0.1:1",
                "--token", ADMIN, "orgs", "list"), "", "");
        assertEquals(AdminCommand.UNREACHABLE, unreachable.exit());
    }
}
