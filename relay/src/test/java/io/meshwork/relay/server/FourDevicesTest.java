package io.meshwork.relay.server;

import io.meshwork.relay.testing.TestDevices;
import java.net.InetSocketAddress;

/**
 * The devices of the organization-scope tests, each at an address of its own: two of organization {@link #HOME},
 * one of another organization, and one whose certificate names none; and the driver that feeds a relay engine.
 */
abstract class FourDevicesTest {

    static final String HOME = "o00000000000a";

    final TestDevices devices;
    final EngineDriver driver = new EngineDriver();
    final TestDevices.Device alpha1;
    final TestDevices.Device alpha2;
    final TestDevices.Device beta;
    final TestDevices.Device unscoped;
    final InetSocketAddress alpha1At = new InetSocketAddress("198.51.100.1", 40001);
    final InetSocketAddress alpha2At = new InetSocketAddress("198.51.100.2", 40002);
    final InetSocketAddress betaAt = new InetSocketAddress("203.0.113.3", 40003);
    final InetSocketAddress unscopedAt = new InetSocketAddress("203.0.113.4", 40004);

    /** Devices with certificates from a test CA named {@code caName}. */
    FourDevicesTest(String caName) {
        devices = new TestDevices(caName);
        alpha1 = EngineDriver.enroll(devices, HOME, "alpha-1");
        alpha2 = EngineDriver.enroll(devices, HOME, "alpha-2");
        beta = EngineDriver.enroll(devices, "o00000000000b", "beta-1");
        unscoped = EngineDriver.enroll(devices, "legacy");
    }
}
