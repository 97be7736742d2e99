package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.IgdDescription;
import io.meshwork.protocol.portmap.IgdSoap;
import io.meshwork.protocol.portmap.PortMapParseException;
import io.meshwork.protocol.portmap.PortMapProtocol;
import io.meshwork.protocol.portmap.Ssdp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * UPnP IGD for the WireGuard port: SSDP M-SEARCH (multicast, and unicast to the gateway), the device description
 * over HTTP, then GetExternalIPAddress and AddPortMapping on its WAN connection service (IGD WANIPConnection:2/1
 * or WANPPPConnection:1), DeletePortMapping to delete. Only the default gateway is believed: SSDP answers from
 * other hosts, and descriptions whose control URL points elsewhere, are dropped. HTTP bodies are read up to the
 * codec's limits and no further, each whole answer within twice the timeout; redirects are not followed; no proxy
 * is used.
 */
final class UpnpClient implements MappingClient {

    private static final Logger log = LoggerFactory.getLogger(UpnpClient.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String DESCRIPTION = "meshwork";

    private final Duration timeout;
    private final DropCounter drops;
    private final Clock clock;
    private final HttpClient http;

    UpnpClient(Duration timeout, DropCounter drops, Clock clock) {
        this.timeout = timeout;
        this.drops = drops;
        this.clock = clock;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(HttpClient.Builder.NO_PROXY)
                .build();
    }

    @Override
    public PortMapProtocol protocol() {
        return PortMapProtocol.UPNP;
    }

    @Override
    public Optional<Lease> map(InetAddress gateway, int internalPort, Duration lifetime, Lease previous)
            throws IOException {
        Optional<IgdDescription.Service> found = previous != null ? Optional.of(previous.upnpService())
                : discover(gateway);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        IgdDescription.Service service = found.get();
        InetAddress client = GatewayDatagrams.localAddressTowards(gateway, Ssdp.PORT);
        Optional<InetAddress> external = externalAddress(service);
        if (external.isEmpty()) {
            return Optional.empty();
        }
        int externalPort = previous != null ? previous.mapping().external().getPort() : internalPort;
        long leaseSeconds = previous != null ? previous.lifetime().toSeconds() : lifetime.toSeconds();
        for (int attempt = 0; attempt < 3; attempt++) {
            IgdSoap.Outcome outcome = call(service, "AddPortMapping", IgdSoap.addPortMapping(service.serviceType(),
                    externalPort, client, internalPort, DESCRIPTION, leaseSeconds));
            if (outcome == null) {
                return Optional.empty();
            }
            if (outcome.success()) {
                Duration granted = Duration.ofSeconds(leaseSeconds);
                // A permanent mapping (IGD 1.0 gateways) is still renewed, at the lifetime asked for.
                Duration renewalBasis = leaseSeconds == 0 ? lifetime : granted;
                PortMapping mapping = new PortMapping(PortMapProtocol.UPNP, gateway,
                        new InetSocketAddress(external.get(), externalPort), internalPort,
                        clock.instant().plus(renewalBasis));
                return Optional.of(new Lease(mapping, granted, client, null, null, service));
            }
            if (outcome.errorCode() == IgdSoap.ONLY_PERMANENT_LEASES_SUPPORTED && leaseSeconds != 0) {
                leaseSeconds = 0;
            } else if (outcome.errorCode() == IgdSoap.CONFLICT_IN_MAPPING_ENTRY) {
                externalPort = 1024 + RANDOM.nextInt(65536 - 1024);
            } else {
                log.info("the gateway {} refused a UPnP mapping of port {}: {} {}", gateway.getHostAddress(),
                        internalPort, outcome.errorCode(), outcome.errorDescription());
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean stillValid(Lease lease) {
        return true;
    }

    @Override
    public void delete(Lease lease) throws IOException {
        IgdDescription.Service service = lease.upnpService();
        call(service, "DeletePortMapping", IgdSoap.deletePortMapping(service.serviceType(),
                lease.mapping().external().getPort()));
    }

    /** SSDP, then the description: the gateway's WAN connection service, if it has one. */
    Optional<IgdDescription.Service> discover(InetAddress gateway) throws IOException {
        Optional<URI> location = search(gateway);
        if (location.isEmpty()) {
            return Optional.empty();
        }
        HttpRequest request = HttpRequest.newBuilder(location.get()).timeout(timeout).GET().build();
        byte[] body = send(request, IgdDescription.MAX_BYTES, "IGD description");
        if (body == null) {
            return Optional.empty();
        }
        try {
            Optional<IgdDescription.Service> service = IgdDescription.parse(body, body.length, location.get());
            if (service.isEmpty()) {
                log.debug("the gateway's UPnP device {} has no WAN connection service", location.get());
            }
            return service;
        } catch (PortMapParseException e) {
            drops.drop(DropCounter.Reason.MALFORMED, "IGD description from " + location.get(), e.getMessage());
            return Optional.empty();
        }
    }

    /** M-SEARCH and the first answer from the gateway itself naming a description on the gateway. */
    Optional<URI> search(InetAddress gateway) throws IOException {
        byte[] search = Ssdp.search(1);
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.send(new DatagramPacket(search, search.length,
                    new InetSocketAddress(InetAddress.getByName(Ssdp.MULTICAST_ADDRESS), Ssdp.PORT)));
            socket.send(new DatagramPacket(search, search.length, new InetSocketAddress(gateway, Ssdp.PORT)));
            long deadline = System.nanoTime() + timeout.toNanos();
            byte[] buffer = new byte[Ssdp.MAX_MESSAGE_BYTES + 1];
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return Optional.empty();
                }
                socket.setSoTimeout((int) left);
                DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(in);
                } catch (SocketTimeoutException e) {
                    return Optional.empty();
                }
                if (!gateway.equals(in.getAddress())) {
                    drops.drop(DropCounter.Reason.NOT_THE_GATEWAY, "SSDP answer from " + in.getSocketAddress(),
                            "only the default gateway " + gateway.getHostAddress() + " is asked");
                    continue;
                }
                try {
                    Ssdp.Answer answer = Ssdp.parseAnswer(in.getData(), in.getLength());
                    if (!gateway.getHostAddress().equals(answer.location().getHost())) {
                        drops.drop(DropCounter.Reason.NOT_THE_GATEWAY, "SSDP answer", "description at "
                                + answer.location().getHost() + ", not on the gateway");
                        continue;
                    }
                    return Optional.of(answer.location());
                } catch (PortMapParseException e) {
                    drops.drop(DropCounter.Reason.MALFORMED, "SSDP answer from " + in.getSocketAddress(),
                            e.getMessage());
                }
            }
        } catch (java.net.PortUnreachableException e) {
            return Optional.empty();
        }
    }

    private Optional<InetAddress> externalAddress(IgdDescription.Service service) throws IOException {
        byte[] body = send(soapRequest(service, "GetExternalIPAddress",
                IgdSoap.getExternalIpAddress(service.serviceType())), IgdSoap.MAX_BYTES, "GetExternalIPAddress answer");
        if (body == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(IgdSoap.externalIpAddress(body, body.length));
        } catch (PortMapParseException e) {
            drops.drop(DropCounter.Reason.MALFORMED, "GetExternalIPAddress answer", e.getMessage());
            return Optional.empty();
        }
    }

    /** An action's outcome; null when the gateway did not answer usably. */
    private IgdSoap.Outcome call(IgdDescription.Service service, String action, byte[] envelope) throws IOException {
        Answer answer = exchange(soapRequest(service, action, envelope), IgdSoap.MAX_BYTES);
        if (answer.body() == null) {
            drops.drop(DropCounter.Reason.BAD_HTTP, action + " answer", "over " + IgdSoap.MAX_BYTES + " bytes");
            return null;
        }
        try {
            return IgdSoap.outcome(answer.status(), answer.body(), answer.body().length);
        } catch (PortMapParseException e) {
            drops.drop(DropCounter.Reason.MALFORMED, action + " answer", e.getMessage());
            return null;
        }
    }

    private HttpRequest soapRequest(IgdDescription.Service service, String action, byte[] envelope) {
        return HttpRequest.newBuilder(service.controlUrl())
                .timeout(timeout)
                .header("Content-Type", "text/xml; charset=\"utf-8\"")
                .header("SOAPAction", IgdSoap.soapAction(service.serviceType(), action))
                .POST(HttpRequest.BodyPublishers.ofByteArray(envelope))
                .build();
    }

    /** The body of a 200 answer, at most {@code limit} bytes; null (counted) otherwise. */
    private byte[] send(HttpRequest request, int limit, String what) throws IOException {
        Answer answer = exchange(request, limit);
        if (answer.status() != 200 || answer.body() == null) {
            drops.drop(DropCounter.Reason.BAD_HTTP, what + " from " + request.uri(),
                    "HTTP " + answer.status() + (answer.body() == null ? ", over " + limit + " bytes" : ""));
            return null;
        }
        return answer.body();
    }

    /** An HTTP answer: its status, and its body or null when it was longer than the limit. */
    private record Answer(int status, byte[] body) {}

    /**
     * One request and its whole answer within twice the timeout (the request timeout bounds only the wait for the
     * headers; a gateway that trickles its body is cut off too), reading at most {@code limit} bytes of body.
     */
    private Answer exchange(HttpRequest request, int limit) throws IOException {
        CompletableFuture<HttpResponse<byte[]>> answer = http.sendAsync(request,
                info -> new BoundedBody(limit));
        try {
            HttpResponse<byte[]> response = answer.get(timeout.multipliedBy(2).toMillis(), TimeUnit.MILLISECONDS);
            return new Answer(response.statusCode(), response.body());
        } catch (TimeoutException e) {
            answer.cancel(true);
            throw new IOException("no whole answer from " + request.uri() + " within " + timeout.multipliedBy(2));
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            answer.cancel(true);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Collects a body up to a limit; past it, cancels the exchange and yields null. */
    private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int limit;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        BoundedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                if (bytes.size() + buffer.remaining() > limit) {
                    subscription.cancel();
                    result.complete(null);
                    return;
                }
                byte[] chunk = new byte[buffer.remaining()];
                buffer.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }
    }
}
