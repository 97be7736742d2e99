package io.meshwork.control.ui;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium driven by Selenium through Debian's {@code chromium} and {@code chromium-driver} (bin/test
 * installs both). Without them the tests that need a browser are skipped, saying why.
 */
final class Browser implements AutoCloseable {

    private static final Path CHROMIUM = Path.of(System.getProperty("meshwork.chromium", "/usr/bin/chromium"));
    private static final Path DRIVER = Path.of(System.getProperty("meshwork.chromedriver", "/usr/bin/chromedriver"));
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private static volatile boolean toldWhySkipped;

    final ChromeDriver driver;

    private Browser(ChromeDriver driver) {
        this.driver = driver;
    }

    /** Skips the calling test, saying why, when Chromium or its driver is not installed. */
    static void assumeAvailable() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(DRIVER)) {
            String why = "browser tests need Debian's chromium and chromium-driver (" + CHROMIUM + ", " + DRIVER
                    + "): apt-get install chromium chromium-driver, as bin/test does";
            if (!toldWhySkipped) {
                toldWhySkipped = true;
                System.err.println("skipping the web console's browser tests: " + why);
            }
            Assumptions.abort(why);
        }
    }

    /** A new browser; skips the test when Chromium or its driver is not installed. */
    private static Browser open() {
        assumeAvailable();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // --no-sandbox: the tests run as root in CI; the certificate is the test server's self-signed one.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1100", "--ignore-certificate-errors");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        return new Browser(new ChromeDriver(service, options));
    }

    /**
     * One browser for the tests of a class: Chromium takes seconds to start, so it starts on the first
     * {@link #fresh()} and every later one clears it instead (no cookies, a blank page: the console keeps nothing
     * else in the browser). Closing what {@link #fresh()} gave hands it back; {@link #close()} quits it, after the
     * class.
     */
    static final class Shared implements AutoCloseable {
        private Browser browser;

        /** The class's browser as a fresh one is; skips the test when Chromium or its driver is not installed. */
        synchronized Browser fresh() {
            if (browser != null) {
                try {
                    browser.driver.executeCdpCommand("Network.clearBrowserCookies", Map.of());
                    browser.driver.get("about:blank");
                    return browser;
                } catch (WebDriverException broken) {
                    // A test left it unusable (a crash, an open alert): start another.
                    browser.driver.quit();
                    browser = null;
                }
            }
            browser = open();
            return browser;
        }

        @Override
        public synchronized void close() {
            if (browser != null) {
                browser.driver.quit();
                browser = null;
            }
        }
    }

    void get(String url) {
        driver.get(url);
    }

    WebElement waitFor(By by) {
        return waiting().until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    <T> T waitUntil(Function<WebDriver, T> condition) {
        return waiting().until(condition::apply);
    }

    /** Waits up to 15 s; a page that redraws what was just found (a stale element) is looked at again. */
    private WebDriverWait waiting() {
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(15));
        wait.ignoring(StaleElementReferenceException.class);
        return wait;
    }

    /** Runs {@code script} in the page (an async script: it calls arguments[arguments.length - 1] with its answer). */
    Object async(String script, Object... args) {
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(15));
        return driver.executeAsyncScript(script, args);
    }

    /** Saves what the page shows as target/screenshots/NAME.png, for review; answers the file. */
    Path screenshot(String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        File shot = driver.getScreenshotAs(OutputType.FILE);
        Path target = SCREENSHOTS.resolve(name + ".png");
        Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    /** Hands the browser back to its {@link Shared}, which clears it for the next test or quits it. */
    @Override
    public void close() {
    }
}
