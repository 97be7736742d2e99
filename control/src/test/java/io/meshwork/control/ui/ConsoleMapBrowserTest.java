package io.meshwork.control.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/**
 * The mesh map in a real browser: devices whose nodes reported their paths are drawn with direct and relayed edges
 * in different styles, latency on hover, the reason of a relayed path on click, and a new report reaches the open
 * map over the live stream. The screenshot of the map is the README's (docs/images/mesh-map.png, copied from
 * target/screenshots/mesh-map.png when {@code -Dmeshwork.ui.readme-screenshot=true}).
 */
class ConsoleMapBrowserTest {

    private static final String RELAYED_REASON = "relayed: the peer's NAT maps per destination (symmetric): "
            + "port prediction sent 256 probes, none answered; next attempt in 40 s <script>window.__owned=1</script>";

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

    private static Map<String, Object> peer(String peerId, String path, Double latency, String relay, String reason) {
        Map<String, Object> peer = new HashMap<>();
        peer.put("peerId", peerId);
        peer.put("path", path);
        peer.put("latencyMillis", latency);
        peer.put("relay", relay);
        peer.put("reason", reason);
        return peer;
    }

    private static void report(ConsoleFixture.Registered device, List<Map<String, Object>> peers) throws Exception {
        ConsoleFixture.Answer answer = control.call("POST", "/api/v1/devices/self/paths", device.token(),
                Map.of("peers", peers));
        assertEquals(200, answer.status(), answer.text());
    }

    @Test
    void theMapDrawsReportedPathsAndFollowsNewReports() throws Exception {
        Browser.assumeAvailable();
        String org = control.organization("map-acme")[0];
        String key = control.key(org, false);
        // Sites as the demo builds them: two behind cone NATs, two on one LAN, one symmetric, one UDP-blocked.
        String[] names = {"cone-a", "cone-b", "lan-1", "lan-2", "symmetric", "udp-blocked"};
        List<ConsoleFixture.Registered> devices = new ArrayList<>();
        for (String name : names) {
            devices.add(control.register(key, name, Map.of()));
        }
        // Relayed wherever the symmetric or UDP-blocked site is involved, direct elsewhere.
        for (int i = 0; i < devices.size(); i++) {
            List<Map<String, Object>> peers = new ArrayList<>();
            for (int j = 0; j < devices.size(); j++) {
                if (i == j) {
                    continue;
                }
                boolean relayed = i >= 4 || j >= 4;
                peers.add(relayed ? peer(devices.get(j).id(), "relay", 41.5 + i + j, "relay1", RELAYED_REASON)
                        : peer(devices.get(j).id(), "direct", 2.0 + i + j, null, "direct: probes answered"));
            }
            report(devices.get(i), peers);
        }

        try (Browser browser = BROWSER.fresh()) {
            browser.get(control.loginLink(ConsoleFixture.ADMIN));
            browser.waitFor(By.id("logout"));
            browser.get(control.url + "/ui/#/map?org=" + org);
            browser.waitFor(By.cssSelector("svg#map line.edge"));
            // 15 pairs: 6 among the four cone and LAN sites go direct, the 9 with the other two are relayed.
            assertEquals(6, browser.driver.findElements(By.cssSelector("svg#map line.edge.direct")).size());
            assertEquals(9, browser.driver.findElements(By.cssSelector("svg#map line.edge.relay")).size());
            assertEquals(6, browser.driver.findElements(By.cssSelector("svg#map g.node")).size());
            browser.waitUntil(driver -> driver.findElement(By.id("map-live")).getText().startsWith("live"));

            // Hover: the latency; click: why the path is relayed (shown as text).
            String symmetric = devices.get(4).id();
            String coneA = devices.get(0).id();
            WebElement relayed = edge(browser, coneA, symmetric);
            pointAt(browser, relayed, coneA);
            browser.waitUntil(driver -> driver.findElement(By.id("map-hover")).getText().contains("ms"));
            String hover = browser.driver.findElement(By.id("map-hover")).getText();
            assertTrue((hover.startsWith("cone-a ↔ symmetric") || hover.startsWith("symmetric ↔ cone-a"))
                    && hover.endsWith(": relayed, 45.5 ms"), hover);
            new Actions(browser.driver).click().perform();
            String details = browser.waitFor(By.id("map-edge-details")).getText();
            assertTrue(details.contains("relayed through relay1") && details.contains(RELAYED_REASON), details);
            assertNull(browser.driver.executeScript("return window.__owned;"), "the reason stayed text");
            browser.screenshot("mesh-map-details");

            // A new report reaches the open map: the symmetric site found a direct path to cone-a.
            List<Map<String, Object>> peers = new ArrayList<>();
            for (int j = 0; j < devices.size(); j++) {
                if (j != 4) {
                    peers.add(j == 0 ? peer(coneA, "direct", 8.5, null, "direct: port prediction answered")
                            : peer(devices.get(j).id(), "relay", 40.0, "relay1", RELAYED_REASON));
                }
            }
            report(devices.get(4), peers);
            browser.waitUntil(driver -> driver.findElements(By.cssSelector("svg#map line.edge.direct")).size() == 7);
            assertEquals("direct", edge(browser, coneA, symmetric).getAttribute("data-path"));
            Path shot = browser.screenshot("mesh-map");
            if (Boolean.getBoolean("meshwork.ui.readme-screenshot")) {
                Path readme = Path.of("..", "docs", "images", "mesh-map.png");
                Files.createDirectories(readme.getParent());
                Files.copy(shot, readme, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    @Test
    void aLargeMeshIsDrawnUpTo500DevicesAndNarrowedByTheFilter() throws Exception {
        Browser.assumeAvailable();
        String org = control.organization("map-large")[0];
        String key = control.key(org, false);
        int count = 520;
        List<ConsoleFixture.Registered> devices = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<ConsoleFixture.Registered>> registered = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String hostname = String.format("node-%03d", i);
                registered.add(pool.submit(() -> control.register(key, hostname, Map.of())));
            }
            for (var future : registered) {
                devices.add(future.get());
            }
            // Each reports its next four on a ring: every fifth pair relayed.
            List<java.util.concurrent.Future<?>> reported = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int from = i;
                reported.add(pool.submit(() -> {
                    List<Map<String, Object>> peers = new ArrayList<>();
                    for (int step = 1; step <= 4; step++) {
                        int to = (from + step) % count;
                        peers.add((from + to) % 5 == 0
                                ? peer(devices.get(to).id(), "relay", 30.0, "relay1", "relayed: symmetric NAT")
                                : peer(devices.get(to).id(), "direct", 4.0, null, "direct"));
                    }
                    report(devices.get(from), peers);
                    return null;
                }));
            }
            for (var future : reported) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }

        try (Browser browser = BROWSER.fresh()) {
            browser.get(control.loginLink(ConsoleFixture.ADMIN));
            browser.waitFor(By.id("logout"));
            browser.get(control.url + "/ui/#/map?org=" + org);
            browser.waitUntil(driver -> driver.findElement(By.id("map-summary")).getText().startsWith("500 of 520"));
            assertEquals(500, browser.driver.findElements(By.cssSelector("svg#map g.node")).size());
            assertTrue(browser.driver.findElements(By.cssSelector("svg#map line.edge")).size() > 1500,
                    "the paths among the drawn devices are drawn");
            browser.screenshot("mesh-map-500");

            browser.driver.findElement(By.id("map-filter")).sendKeys("node-0");
            browser.waitUntil(driver -> driver.findElement(By.id("map-summary")).getText().startsWith("100 of 100"));
            assertEquals(100, browser.driver.findElements(By.cssSelector("svg#map g.node")).size());
            browser.screenshot("mesh-map-100");
            browser.driver.findElement(By.id("map-filter")).sendKeys("0");
            browser.waitUntil(driver -> driver.findElement(By.id("map-summary")).getText().startsWith("10 of 10"));
            assertEquals(10, browser.driver.findElements(By.cssSelector("svg#map g.node")).size());
            browser.screenshot("mesh-map-filtered");
        }
    }

    /** Moves the mouse onto {@code line} a little way from its end at device {@code from}, clear of crossings. */
    private static void pointAt(Browser browser, WebElement line, String from) {
        @SuppressWarnings("unchecked")
        List<Number> point = (List<Number>) browser.driver.executeScript("const l = arguments[0];"
                + "const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map(a => Number(l.getAttribute(a)));"
                + "const t = l.getAttribute('data-a') === arguments[1] ? 0.15 : 0.85;"
                + "const p = l.ownerSVGElement.createSVGPoint(); p.x = x1 + t * (x2 - x1); p.y = y1 + t * (y2 - y1);"
                + "const q = p.matrixTransform(l.getScreenCTM()); return [Math.round(q.x), Math.round(q.y)];",
                line, from);
        new Actions(browser.driver).moveToLocation(point.get(0).intValue(), point.get(1).intValue()).perform();
    }

    private static WebElement edge(Browser browser, String one, String other) {
        String a = one.compareTo(other) < 0 ? one : other;
        String b = one.compareTo(other) < 0 ? other : one;
        return browser.driver.findElement(By.cssSelector("svg#map line.edge[data-a='" + a + "'][data-b='" + b + "']"));
    }
}
