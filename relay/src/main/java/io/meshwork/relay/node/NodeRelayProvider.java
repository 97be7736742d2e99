package io.meshwork.relay.node;

import io.meshwork.protocol.relay.NodeRelayService;
import io.meshwork.relay.control.HttpControlPlane;

/** The relay module's {@link NodeRelayService}, found by the node agent through {@link java.util.ServiceLoader}. */
public final class NodeRelayProvider implements NodeRelayService {

    @Override
    public Running start(Settings settings) {
        NodeRelay relay = new NodeRelay(settings, HttpControlPlane.forDevice(settings.control(),
                settings.deviceToken(), settings.controlPin(), settings.name()), NodeRelay.Timing.DEFAULT);
        relay.start();
        return relay;
    }
}
