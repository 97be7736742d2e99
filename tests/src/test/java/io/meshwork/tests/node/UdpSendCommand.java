package io.meshwork.tests.node;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Sends one UDP datagram from a given local port, for lab tests that set up NAT state by hand:
 * {@code UdpSendCommand LOCAL_PORT IP PORT}.
 */
public final class UdpSendCommand {

    private UdpSendCommand() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: UdpSendCommand LOCAL_PORT IP PORT");
            System.exit(2);
        }
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(Integer.parseInt(args[0])))) {
            byte[] payload = "meshwork lab".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(args[1]),
                    Integer.parseInt(args[2])));
        }
    }
}
