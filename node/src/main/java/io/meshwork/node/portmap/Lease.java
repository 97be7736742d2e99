package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.IgdDescription;
import io.meshwork.protocol.portmap.ServerEpoch;
import java.net.InetAddress;
import java.time.Duration;

/**
 * A granted mapping and what its protocol needs to renew or delete it.
 *
 * @param lifetime      what the gateway granted (0 for a UPnP mapping without expiry)
 * @param internalClient this host's address towards the gateway, which the mapping points to
 * @param nonce         PCP: the MAP nonce, reused to renew and delete (RFC 6887 §11.2.1); else null
 * @param epoch         PCP and NAT-PMP: the server's epoch at the last reply; else null
 * @param upnpService   UPnP: the WAN connection service that made it; else null
 */
record Lease(PortMapping mapping, Duration lifetime, InetAddress internalClient, byte[] nonce,
        ServerEpoch.Observation epoch, IgdDescription.Service upnpService) {}
