package io.meshwork.tests.node;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Sends one UDP datagram from a given local port, for lab tests that set up NAT state by hand. */
@Command(name = "udp-send", mixinStandardHelpOptions = true)
public final class UdpSendCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "Local UDP port to send from.")
    int localPort;

    @Parameters(index = "1", description = "Destination IP.")
    String ip;

    @Parameters(index = "2", description = "Destination port.")
    int port;

    @Override
    public Integer call() throws Exception {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(localPort))) {
            byte[] payload = "meshwork lab".getBytes(StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(ip), port));
        }
        return 0;
    }
}
