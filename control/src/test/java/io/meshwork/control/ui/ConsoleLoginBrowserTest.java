package io.meshwork.control.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * Logging in to the web console in a real browser: a one-time login link works once, a pasted organization token
 * sees its own organization only, logout ends the session, and a request without the session's CSRF token is
 * refused. Each test saves a screenshot under target/screenshots.
 */
class ConsoleLoginBrowserTest {

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

    @Test
    void aLoginLinkLogsInOnceAndIsRefusedTheSecondTime() throws Exception {
        control.organization("link-acme");
        String link = control.loginLink(ConsoleFixture.ADMIN);
        assertTrue(link.startsWith(control.url + "/ui/#login="), link);
        try (Browser browser = BROWSER.fresh()) {
            browser.get(link);
            browser.waitFor(By.id("logout"));
            browser.waitFor(By.id("organization-list"));
            assertFalse(browser.driver.getCurrentUrl().contains("login="),
                    "the spent code leaves the address bar: " + browser.driver.getCurrentUrl());
            assertTrue(browser.driver.findElement(By.id("organization-list")).getText().contains("link-acme"));
            browser.screenshot("login-link");
        }
        try (Browser browser = BROWSER.fresh()) {
            browser.get(link);
            String refused = browser.waitFor(By.id("login-status")).getText();
            assertTrue(refused.contains("did not work") && refused.contains("unknown, used or expired"), refused);
            browser.screenshot("login-link-reused");
        }
        String code = link.substring(link.indexOf("#login=") + "#login=".length());
        ConsoleFixture.Answer again = control.call("POST", "/api/v1/ui/session", null, Map.of("code", code));
        assertEquals(401, again.status(), again.text());
    }

    @Test
    void anOrganizationTokenSeesItsOwnOrganizationAndLogoutEndsTheSession() throws Exception {
        String[] mine = control.organization("token-own");
        control.organization("token-other");
        try (Browser browser = BROWSER.fresh()) {
            browser.get(control.url + "/ui/");
            browser.waitFor(By.id("login-token")).sendKeys(mine[1]);
            browser.driver.findElement(By.cssSelector("#login-form button[type=submit]")).click();
            browser.waitFor(By.id("device-list"));
            assertEquals(mine[0], browser.driver.findElement(By.id("organization-id")).getText());
            assertTrue(browser.driver.findElements(By.cssSelector("nav a[data-page=organizations]")).isEmpty(),
                    "an organization token has no organizations page");
            browser.screenshot("login-organization-token");

            // Another organization's devices are not this session's to see.
            Object other = browser.async("const done = arguments[arguments.length - 1];"
                    + "fetch('/api/v1/organizations/' + arguments[0] + '/devices').then(r => done(r.status));",
                    control.organization("token-third")[0]);
            assertEquals(404L, other);

            browser.driver.findElement(By.id("logout")).click();
            browser.waitFor(By.id("login-form"));
            Object afterLogout = browser.async("const done = arguments[arguments.length - 1];"
                    + "fetch('/api/v1/organizations/' + arguments[0] + '/devices').then(r => done(r.status));", mine[0]);
            assertEquals(401L, afterLogout, "the session's cookie no longer works");
        }
    }

    @Test
    void aRequestWithoutTheCsrfTokenIsRefused() throws Exception {
        String[] org = control.organization("csrf-acme");
        try (Browser browser = BROWSER.fresh()) {
            browser.get(control.loginLink(ConsoleFixture.ADMIN));
            browser.waitFor(By.id("logout"));
            String keys = "/api/v1/organizations/" + org[0] + "/keys";
            Object without = browser.async("const done = arguments[arguments.length - 1];"
                    + "fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/json'},"
                    + " body: '{}'}).then(r => r.text().then(t => done(r.status + ' ' + t)));", keys);
            assertTrue(String.valueOf(without).startsWith("403 ") && String.valueOf(without).contains("CSRF"),
                    String.valueOf(without));
            Object wrong = browser.async("const done = arguments[arguments.length - 1];"
                    + "fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/json',"
                    + " 'X-CSRF-Token': 'not-the-token'}, body: '{}'}).then(r => done(r.status));", keys);
            assertEquals(403L, wrong);
            Object with = browser.async("const done = arguments[arguments.length - 1];"
                    + "fetch('/api/v1/ui/session').then(r => r.json()).then(s => fetch(arguments[0], {method: 'POST',"
                    + " headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrfToken}, body: '{}'}))"
                    + ".then(r => done(r.status));", keys);
            assertEquals(201L, with, "the same request with the session's CSRF token is taken");
            browser.screenshot("csrf");
        }
        ConsoleFixture.Answer listed = control.call("GET", "/api/v1/organizations/" + org[0] + "/keys",
                ConsoleFixture.ADMIN, null);
        assertEquals(1, listed.body().size(), "only the request with the CSRF token made a key: " + listed.text());
    }

    @Test
    void theConsoleIsServedWithAStrictContentSecurityPolicyAndVersionedFiles() throws Exception {
        ConsoleFixture.Answer page = control.call("GET", "/ui/", null, null);
        assertEquals(200, page.status());
        String policy = page.response().headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline")
                && policy.contains("default-src 'none'"), policy);
        assertFalse(page.text().contains("<script>"), "no inline script in the page");
        java.util.regex.Matcher asset = java.util.regex.Pattern.compile("src=\"(v/[0-9a-f]{12}/app\\.js)\"")
                .matcher(page.text());
        assertTrue(asset.find(), page.text());
        ConsoleFixture.Answer script = control.call("GET", "/ui/" + asset.group(1), null, null);
        assertEquals(200, script.status());
        assertTrue(script.response().headers().firstValue("Cache-Control").orElse("").contains("immutable"));
        assertEquals(404, control.call("GET", "/ui/v/000000000000/app.js", null, null).status(),
                "another version's files are not served");
        assertEquals(404, control.call("GET", "/ui/v/" + asset.group(1).substring(2, 14) + "/reference.conf", null,
                null).status(), "only the console's own files are served");
    }

    @Test
    void theConsoleWorksOverPlainHttpOnLoopbackToo() throws Exception {
        // Browsers take Secure cookies from loopback over plain HTTP: `meshwork control` serves that by default.
        try (ConsoleFixture plain = new ConsoleFixture(false); Browser browser = BROWSER.fresh()) {
            assertTrue(plain.url.startsWith("http://127.0.0.1:"), plain.url);
            browser.get(plain.loginLink(ConsoleFixture.ADMIN));
            browser.waitFor(By.id("organization-list"));
            browser.driver.navigate().refresh();
            browser.waitFor(By.id("logout"));
            browser.waitFor(By.id("organization-list"));
        }
    }
}
