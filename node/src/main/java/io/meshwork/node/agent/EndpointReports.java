package io.meshwork.node.agent;

import io.meshwork.protocol.net.IpLiteral;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.node.netcheck.NetcheckReportFormat;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.portmap.PortMapping;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.net.AddressClass;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a node reports to control after a discovery ({@code POST /api/v1/devices/self/endpoints}): each local
 * address at the WireGuard port as a "local" endpoint, each public endpoint STUN saw as a "stun" one, the port
 * mapping the gateway made (docs/architecture.md, "Port mapping") as a "portmap" one, listed first, and the
 * netcheck report's fields as the NAT report, exactly as {@code meshwork netcheck --json} prints them.
 *
 * <p>Within what control takes (docs/api.md, "Endpoint reports"), which refuses a whole report over one bad
 * endpoint: only endpoints of a class peers may be sent to ({@link AddressClass#usableAs}: a link-local interface
 * address or a private address STUN saw, as behind a STUN server on the LAN, is left out), at most
 * {@value #MAX_ENDPOINTS} of them (the STUN ones first, then local ones), and NAT report lists of at most
 * {@value #MAX_LIST} items.
 */
public final class EndpointReports {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Endpoints control takes per report at most. */
    static final int MAX_ENDPOINTS = 16;
    /** Items control takes per list of the NAT report at most. */
    static final int MAX_LIST = 16;
    /** The source of an endpoint the gateway mapped for this node. */
    static final String PORTMAP = "portmap";

    private EndpointReports() {
    }

    /** The host's own addresses at {@code listenPort}, as "local" endpoints. */
    public static List<Endpoint> local(List<String> localAddresses, int listenPort) {
        List<Endpoint> endpoints = new ArrayList<>();
        for (String ip : localAddresses) {
            InetSocketAddress address = new InetSocketAddress(IpLiteral.parse(ip), listenPort);
            if (AddressClass.of(address.getAddress()).usableAs(PeerFacts.LOCAL)
                    && endpoints.size() < MAX_ENDPOINTS) {
                endpoints.add(new Endpoint(IpLiteral.format(address), PeerFacts.LOCAL));
            }
        }
        return endpoints;
    }

    /** A discovery without STUN servers: only the local endpoints, no NAT report. */
    public static EndpointDiscovery.Discovered withoutStun(List<String> localAddresses, int listenPort) {
        return new EndpointDiscovery.Discovered(local(localAddresses, listenPort), Map.of(), Set.of());
    }

    /**
     * A discovery's endpoints before its NAT tests finished: the local endpoints and the one reflexive endpoint the
     * first STUN server saw, with an empty NAT report (what the NAT does is not known yet).
     */
    public static EndpointDiscovery.Discovered preliminary(List<String> localAddresses, int listenPort,
            InetSocketAddress mapped) {
        List<Endpoint> local = local(localAddresses, listenPort);
        if (!AddressClass.of(mapped.getAddress()).usableAs("stun")) {
            return new EndpointDiscovery.Discovered(local, Map.of(), Set.of());
        }
        List<Endpoint> endpoints = new ArrayList<>(local.subList(0, Math.min(local.size(), MAX_ENDPOINTS - 1)));
        endpoints.add(new Endpoint(NetcheckReportFormat.address(mapped), "stun"));
        return new EndpointDiscovery.Discovered(endpoints, Map.of(), Set.of(IpLiteral.format(mapped.getAddress())));
    }

    /** A discovery whose netcheck ran: the local endpoints, the STUN-reflexive ones and the NAT report. */
    public static EndpointDiscovery.Discovered fromNetcheck(List<String> localAddresses, int listenPort,
            NetcheckResult result) {
        List<Endpoint> stun = new ArrayList<>();
        Set<String> publicIps = new LinkedHashSet<>();
        for (InetSocketAddress mapped : result.report().publicEndpoints()) {
            if (AddressClass.of(mapped.getAddress()).usableAs("stun") && stun.size() < MAX_ENDPOINTS) {
                stun.add(new Endpoint(NetcheckReportFormat.address(mapped), "stun"));
            }
            publicIps.add(IpLiteral.format(mapped.getAddress()));
        }
        List<Endpoint> local = local(localAddresses, listenPort);
        List<Endpoint> endpoints = new ArrayList<>(local.subList(0, Math.min(local.size(),
                MAX_ENDPOINTS - stun.size())));
        endpoints.addAll(stun);
        return new EndpointDiscovery.Discovered(endpoints, natReport(result), publicIps);
    }

    /**
     * {@code discovered} with the IPv6 reflexive endpoint STUN over IPv6 saw, when there is one, as a "stun" endpoint
     * (after the others; left out when the report is full or it is no endpoint peers may be sent to). Its IP is not
     * one of the {@code publicIps}, which name this node's IPv4 NAT (peers behind the same one are on its LAN) and
     * the address a node relay advertises.
     */
    public static EndpointDiscovery.Discovered withIpv6Reflexive(EndpointDiscovery.Discovered discovered,
            Optional<InetSocketAddress> reflexive) {
        if (reflexive.isEmpty() || !AddressClass.of(reflexive.get().getAddress()).usableAs("stun")) {
            return discovered;
        }
        Endpoint endpoint = new Endpoint(NetcheckReportFormat.address(reflexive.get()), "stun");
        if (discovered.endpoints().contains(endpoint) || discovered.endpoints().size() >= MAX_ENDPOINTS) {
            return discovered;
        }
        List<Endpoint> endpoints = new ArrayList<>(discovered.endpoints());
        endpoints.add(endpoint);
        return new EndpointDiscovery.Discovered(endpoints, discovered.nat(), discovered.publicIps());
    }

    /**
     * {@code discovered} with the gateway's port mapping, when there is one, as the first endpoint (source
     * "portmap"): the address peers should try first. A STUN endpoint with the same address is left out (a mapped
     * port gets the same mapping for every destination, so STUN sees it too), and so is the last endpoint when the
     * report would exceed {@value #MAX_ENDPOINTS}. A mapping whose external address peers may not be sent to (a
     * private one, from a gateway that is itself behind NAT) is not reported.
     */
    public static EndpointDiscovery.Discovered withPortMapping(EndpointDiscovery.Discovered discovered,
            Optional<PortMapping> mapping) {
        if (mapping.isEmpty() || !AddressClass.of(mapping.get().external().getAddress()).usableAs(PORTMAP)) {
            return discovered;
        }
        String address = NetcheckReportFormat.address(mapping.get().external());
        List<Endpoint> endpoints = new ArrayList<>();
        endpoints.add(new Endpoint(address, PORTMAP));
        for (Endpoint endpoint : discovered.endpoints()) {
            boolean sameAsMapping = address.equals(endpoint.address()) && "stun".equals(endpoint.source());
            if (endpoints.size() < MAX_ENDPOINTS && !sameAsMapping) {
                endpoints.add(endpoint);
            }
        }
        Set<String> publicIps = new LinkedHashSet<>(discovered.publicIps());
        publicIps.add(IpLiteral.format(mapping.get().external().getAddress()));
        return new EndpointDiscovery.Discovered(endpoints, discovered.nat(), publicIps);
    }

    /** The netcheck report as the JSON fields control stores and hands to peers. */
    public static Map<String, Object> natReport(NetcheckResult result) {
        try {
            Map<String, Object> report = JSON.readValue(NetcheckReportFormat.json(result), new TypeReference<>() {});
            report.replaceAll((field, value) -> value instanceof List<?> list && list.size() > MAX_LIST
                    ? List.copyOf(list.subList(0, MAX_LIST)) : value);
            return report;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the netcheck report did not read back as JSON", e);
        }
    }
}
