package io.meshwork.control.http;

import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.protocol.api.RegisterRequest;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.api.RelayInfo;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exercises the registration path's code before the listener binds, so a new member's first registrations are not
 * the ones that run it interpreted: device certificates signed with the cluster's CA (and thrown away), registration
 * requests and answers through the JSON codecs, and registration requests through the member's own routes, in
 * process. Those requests carry a registration key of an organization id no organization has and a hostname the
 * validation refuses, so each is answered 400 before anything asks the cluster: the warm-up writes nothing, starts
 * no entity, takes no rate-limit budget (a 400 gives its failed-authentication token back), and leaves nothing an
 * administrator can see. Bounded by {@code meshwork.control.warm-up} (time), logged at debug.
 */
public final class RegistrationWarmUp {

    private static final Logger log = LoggerFactory.getLogger(RegistrationWarmUp.class);
    /** At most this many route requests in flight at once. */
    private static final int IN_FLIGHT = 16;
    /** An address from TEST-NET-1 (RFC 5737) as the requests' source: no real client has it. */
    private static final RemoteAddress SOURCE = RemoteAddress.create(new InetSocketAddress(testNet1(), 9));

    private RegistrationWarmUp() {}

    private static InetAddress testNet1() {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1});
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What one warm-up did: {@code refused} of its {@code requests} were answered 400, as they should be. */
    public record Done(int certificates, int requests, int refused, int codecRounds, long elapsedMillis) {}

    /**
     * Runs the warm-up for about {@code budget} (nothing when it is zero): certificates, codecs and requests
     * through {@code route} in turns, each turn waiting for its requests' answers.
     */
    public static Done run(ActorSystem<?> system, Route route, CertificateAuthority ca, Duration budget) {
        if (budget.isZero() || budget.isNegative()) {
            return new Done(0, 0, 0, 0, 0);
        }
        long start = System.nanoTime();
        long deadline = start + budget.toNanos();
        SecureRandom random = new SecureRandom();
        JsonSupport json = new JsonSupport(log);
        Function<HttpRequest, CompletionStage<HttpResponse>> handler = route.seal().handler(system);
        // A key of the shape control hands out, for the organization id of all zeros (ids are "o" + 12 random hex
        // digits): the requests never get as far as asking for it, the hostname below is refused first.
        String key = TokenKind.REGISTRATION_KEY.format("o000000000000", "k000000000000", "0".repeat(32));
        int certificates = 0;
        int requests = 0;
        int refused = 0;
        int codecRounds = 0;
        int turn = 0;
        try {
            while (System.nanoTime() < deadline) {
                byte[] publicKey = new byte[32];
                random.nextBytes(publicKey);
                String publicKeyText = Base64.getEncoder().encodeToString(publicKey);
                String serial = CertificateAuthority.newSerialHex();
                CertificateAuthority.Issued issued = ca.issueDeviceCertificate("o000000000000",
                        "o000000000000-d" + String.format("%012x", turn), publicKey, serial);
                certificates++;
                RegisterResponse response = new RegisterResponse("o000000000000-d000000000000", "o000000000000",
                        TokenKind.DEVICE.format("o000000000000-d000000000000", "0".repeat(48)),
                        List.of("100.64.0.1", "fd00::1"), issued.pem(), ca.certificatePem(),
                        List.of(new RelayInfo("warm-up", "192.0.2.1:3478", "192.0.2.1:443", null, null, true)),
                        List.of("192.0.2.1:3478"), "192.0.2.2:41641", "active", List.of("100.64.0.0/10", "fd00::/64"),
                        "warm-up", List.of());
                json.toEntity(response);
                String body = "{\"publicKey\":\"" + publicKeyText + "\",\"hostname\":\"warm-up-" + turn
                        + "\",\"endpoints\":[{\"address\":\"192.0.2.3:41641\",\"source\":\"local\"}]}";
                json.mapper().readValue(body, RegisterRequest.class);
                codecRounds++;
                if (turn % 4 == 0) {
                    // A hostname the validation refuses: answered 400 before the organization is asked.
                    String refusedBody = "{\"publicKey\":\"" + publicKeyText + "\",\"hostname\":\"refused!\"}";
                    List<CompletableFuture<HttpResponse>> answers = new ArrayList<>(IN_FLIGHT);
                    for (int i = 0; i < IN_FLIGHT; i++) {
                        HttpRequest request = HttpRequest.POST("/api/v1/register")
                                .addCredentials(HttpCredentials.createOAuth2BearerToken(key))
                                .withEntity(ContentTypes.APPLICATION_JSON, refusedBody)
                                .addAttribute(AttributeKeys.remoteAddress, SOURCE);
                        answers.add(handler.apply(request).toCompletableFuture());
                    }
                    for (CompletableFuture<HttpResponse> answer : answers) {
                        HttpResponse answered = answer.get(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)
                                + 1_000, TimeUnit.MILLISECONDS);
                        answered.discardEntityBytes(system);
                        requests++;
                        if (answered.status().intValue() == 400) {
                            refused++;
                        }
                    }
                }
                turn++;
            }
        } catch (Exception e) {
            // A warm-up that fails only leaves the member colder than it could be.
            log.debug("warm-up stopped: {}", e.toString());
        }
        long elapsed = (System.nanoTime() - start) / 1_000_000;
        log.debug("warm-up: {} certificates, {} codec rounds, {} registration requests through the routes ({} refused"
                + " with 400) in {} ms", certificates, codecRounds, requests, refused, elapsed);
        return new Done(certificates, requests, refused, codecRounds, elapsed);
    }
}
