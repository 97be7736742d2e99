package io.meshwork.control.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * Keys, devices and security groups in the web console, in a real browser: a key's secret is shown once with its
 * {@code node up} line, a pending device is approved, a bad security-group rule shows the API's error next to the
 * field, and a device's metadata with HTML in it shows as text. Each test saves a screenshot under
 * target/screenshots.
 */
class ConsoleDevicesBrowserTest {

    private static ConsoleFixture control;
    private static final Browser.Shared BROWSER = new Browser.Shared();

    @BeforeAll
    static void start() throws Exception {
        control = new ConsoleFixture();
    }

    @AfterAll
    static void stop() {
        BROWSER.close();
        if (control != null) {
            control.close();
        }
    }

    private static Browser loggedIn(String page, String organizationId) throws Exception {
        Browser browser = BROWSER.fresh();
        browser.get(control.loginLink(ConsoleFixture.ADMIN));
        browser.waitFor(By.id("logout"));
        browser.get(control.url + "/ui/#/" + page + "?org=" + organizationId);
        return browser;
    }

    @Test
    void aNewKeyIsShownOnceWithItsNodeUpLine() throws Exception {
        String org = control.organization("keys-acme")[0];
        try (Browser browser = loggedIn("keys", org)) {
            browser.waitFor(By.id("key-reusable")).click();
            browser.driver.findElement(By.id("key-create")).click();
            String secret = browser.waitFor(By.id("key-secret")).getText();
            assertTrue(secret.startsWith("mwk." + org + "."), secret);
            String line = browser.driver.findElement(By.id("key-node-up")).getText();
            assertEquals("meshwork node up --control " + control.url + " --key " + secret + " --control-pin "
                    + control.server.pin(), line);
            browser.waitUntil(driver -> driver.findElements(By.cssSelector("#key-list tr[data-key]")).size() == 1);
            browser.screenshot("key-created");

            // The secret was shown once: the key list, now and after coming back, never has it.
            browser.driver.findElement(By.cssSelector("nav a[data-page=devices]")).click();
            browser.waitFor(By.id("device-list"));
            browser.driver.findElement(By.cssSelector("nav a[data-page=keys]")).click();
            browser.waitFor(By.cssSelector("#key-list tr[data-key]"));
            assertTrue(browser.driver.findElements(By.id("key-secret")).isEmpty());
            assertFalse(browser.driver.getPageSource().contains(secret), "the secret is nowhere on the page");
        }
        ConsoleFixture.Answer registered = control.call("POST", "/api/v1/register", null, null);
        assertEquals(401, registered.status(), "sanity: registering needs a key");
    }

    @Test
    void aPendingDeviceIsApprovedFromTheDevicesPage() throws Exception {
        String org = control.organization("approve-acme")[0];
        ConsoleFixture.Registered gated = control.register(control.key(org, true), "gated-1", Map.of());
        control.register(control.key(org, false), "open-1", Map.of());
        try (Browser browser = loggedIn("devices", org)) {
            WebElement row = browser.waitFor(By.cssSelector("tr[data-device='" + gated.id() + "']"));
            assertEquals("pending", row.getAttribute("data-status"));
            assertTrue(browser.driver.findElements(By.cssSelector("tr[data-status=active] [data-action=approve]"))
                    .isEmpty(), "only pending devices offer approval");
            browser.screenshot("device-pending");
            row.findElement(By.cssSelector("[data-action=approve]")).click();
            browser.waitUntil(driver -> driver.findElement(By.cssSelector("tr[data-device='" + gated.id() + "']"))
                    .getAttribute("data-status").equals("active"));
            browser.screenshot("device-approved");
        }
        assertEquals("active", control.call("GET", "/api/v1/devices/" + gated.id(), ConsoleFixture.ADMIN, null)
                .body().get("status").asText());
    }

    @Test
    void deletingADeviceAsksFirst() throws Exception {
        String org = control.organization("delete-acme")[0];
        ConsoleFixture.Registered doomed = control.register(control.key(org, false), "doomed-1", Map.of());
        try (Browser browser = loggedIn("devices", org)) {
            By row = By.cssSelector("tr[data-device='" + doomed.id() + "']");
            By delete = By.cssSelector("tr[data-device='" + doomed.id() + "'] [data-action=delete]");
            browser.waitFor(delete).click();
            browser.waitFor(By.cssSelector("dialog.confirm [data-confirm=no]")).click();
            assertEquals(200, control.call("GET", "/api/v1/devices/" + doomed.id(), ConsoleFixture.ADMIN, null)
                    .status(), "cancelled: the device stays");
            browser.waitFor(delete).click();
            browser.waitFor(By.cssSelector("dialog.confirm [data-confirm=yes]")).click();
            browser.waitUntil(driver -> driver.findElements(row).isEmpty());
        }
        assertEquals(404, control.call("GET", "/api/v1/devices/" + doomed.id(), ConsoleFixture.ADMIN, null)
                .status());
    }

    @Test
    void theHomeRelayANodeReportedIsItsRowsHomeRelay() throws Exception {
        String org = control.organization("home-acme")[0];
        ConsoleFixture.Registered roaming = control.register(control.key(org, false), "roaming-1", Map.of());
        ConsoleFixture.Registered quiet = control.register(control.key(org, false), "quiet-1", Map.of());
        ConsoleFixture.Answer reported = control.call("POST", "/api/v1/devices/self/endpoints", roaming.token(),
                Map.of("endpoints", List.of(), "homeRelay", "relay-eu-2"));
        assertEquals(200, reported.status(), reported.text());
        try (Browser browser = loggedIn("devices", org)) {
            By roamingCell = By.cssSelector("tr[data-device='" + roaming.id() + "'] td.home-relay");
            assertEquals("relay-eu-2", browser.waitFor(roamingCell).getText());
            assertEquals("—", browser.driver.findElement(By.cssSelector("tr[data-device='" + quiet.id()
                    + "'] td.home-relay")).getText(), "a node that reported no home relay has none");
            browser.screenshot("device-home-relay");
        }
        assertEquals("relay-eu-2", control.call("GET", "/api/v1/devices/" + roaming.id(), ConsoleFixture.ADMIN,
                null).body().get("homeRelay").asText());
    }

    @Test
    void htmlInADevicesMetadataIsShownAsText() throws Exception {
        String org = control.organization("xss-acme")[0];
        String hostile = "<img src=x onerror=\"window.__owned=1\"><b>bold</b>";
        ConsoleFixture.Registered device = control.register(control.key(org, false), "plain-1",
                Map.of("note", hostile));
        try (Browser browser = loggedIn("devices", org)) {
            WebElement row = browser.waitFor(By.cssSelector("tr[data-device='" + device.id() + "']"));
            assertTrue(row.getText().contains("note=" + hostile), row.getText());
            List<WebElement> injected = row.findElements(By.cssSelector("img, b"));
            assertTrue(injected.isEmpty(), "the markup stayed text");
            assertNull(browser.driver.executeScript("return window.__owned;"), "no script ran");
            browser.screenshot("metadata-as-text");
        }
    }

    @Test
    void aBadSecurityGroupRuleShowsItsErrorNextToTheField() throws Exception {
        String org = control.organization("groups-acme")[0];
        try (Browser browser = loggedIn("groups", org)) {
            browser.waitFor(By.id("group-new")).click();
            browser.waitFor(By.id("group-name")).sendKeys("db");
            WebElement rule = browser.driver.findElement(By.cssSelector("#group-rules .rule"));
            rule.findElement(By.cssSelector("[data-field=ports]")).sendKeys("99999");
            rule.findElement(By.cssSelector("[data-field=peers]")).sendKeys("10.0.0.0/8");
            browser.driver.findElement(By.id("group-save")).click();
            WebElement error = browser.waitFor(By.cssSelector("#group-rules [data-error-for=ports]"));
            browser.waitUntil(driver -> !error.getText().isEmpty());
            assertEquals("ports out of range 1-65535: 99999", error.getText());
            assertTrue(rule.findElement(By.cssSelector("[data-field=ports]")).getAttribute("class")
                    .contains("invalid"));
            browser.screenshot("security-group-error");

            // Fixed, it saves, and the list shows it.
            WebElement ports = rule.findElement(By.cssSelector("[data-field=ports]"));
            ports.clear();
            ports.sendKeys("5432");
            browser.driver.findElement(By.id("group-save")).click();
            browser.waitFor(By.cssSelector("#group-list tr[data-group=db]"));
        }
        ConsoleFixture.Answer saved = control.call("GET", "/api/v1/organizations/" + org + "/security-groups/db",
                ConsoleFixture.ADMIN, null);
        assertEquals("5432", saved.body().get("rules").get(0).get("ports").asText(), saved.text());
    }
}
