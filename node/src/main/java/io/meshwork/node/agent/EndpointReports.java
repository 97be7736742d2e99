package io.meshwork.node.agent;

import io.meshwork.protocol.net.IpLiteral;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.node.netcheck.NetcheckReportFormat;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.protocol.api.Endpoint;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a node reports to control after a discovery ({@code POST /api/v1/devices/self/endpoints}): each local
 * address at the WireGuard port as a "local" endpoint, each public endpoint STUN saw as a "stun" one, and the
 * netcheck report's fields as the NAT report, exactly as {@code meshwork netcheck --json} prints them.
 */
public final class EndpointReports {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EndpointReports() {
    }

    /** The host's own addresses at {@code listenPort}, as "local" endpoints. */
    public static List<Endpoint> local(List<String> localAddresses, int listenPort) {
        List<Endpoint> endpoints = new ArrayList<>();
        for (String ip : localAddresses) {
            endpoints.add(new Endpoint(IpLiteral.format(new InetSocketAddress(IpLiteral.parse(ip), listenPort)),
                    PeerFacts.LOCAL));
        }
        return endpoints;
    }

    /** A discovery without STUN servers: only the local endpoints, no NAT report. */
    public static EndpointDiscovery.Discovered withoutStun(List<String> localAddresses, int listenPort) {
        return new EndpointDiscovery.Discovered(local(localAddresses, listenPort), Map.of(), Set.of());
    }

    /** A discovery whose netcheck ran: the local endpoints, the STUN-reflexive ones and the NAT report. */
    public static EndpointDiscovery.Discovered fromNetcheck(List<String> localAddresses, int listenPort,
            NetcheckResult result) {
        List<Endpoint> endpoints = local(localAddresses, listenPort);
        Set<String> publicIps = new LinkedHashSet<>();
        for (InetSocketAddress mapped : result.report().publicEndpoints()) {
            endpoints.add(new Endpoint(NetcheckReportFormat.address(mapped), "stun"));
            publicIps.add(IpLiteral.format(mapped.getAddress()));
        }
        return new EndpointDiscovery.Discovered(endpoints, natReport(result), publicIps);
    }

    /** The netcheck report as the JSON fields control stores and hands to peers. */
    public static Map<String, Object> natReport(NetcheckResult result) {
        try {
            return JSON.readValue(NetcheckReportFormat.json(result), new TypeReference<>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the netcheck report did not read back as JSON", e);
        }
    }
}
