package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static io.meshwork.control.http.ControlApiTest.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshwork.control.ControlServer;
import java.io.ByteArrayInputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/**
 * Three control members on one machine form one cluster from the same configuration; devices register through
 * different members; one member goes away and its shards move; every registration is still there, through the
 * survivors, and a peer stream resumes on another member. Every member signs with the cluster's one CA, the one
 * relays fetch.
 */
class ThreeMemberClusterTest {

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String publicKey(int seed) {
        byte[] key = new byte[32];
        key[0] = (byte) seed;
        key[1] = 3;
        return Base64.getEncoder().encodeToString(key);
    }

    private static X509Certificate certificate(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void registrationsSurviveLosingAMember() throws Exception {
        Path data = Files.createTempDirectory("mwc-cluster");
        int[] ports = {freePort(), freePort(), freePort()};
        List<String> seeds = new ArrayList<>();
        for (int port : ports) {
            seeds.add("pekko://meshwork@127.0.0.1:" + port);
        }
        List<ControlServer> members = new ArrayList<>();
        try {
            for (int port : ports) {
                members.add(ControlApiTest.startServer(data, Map.of(
                        "pekko.remote.artery.canonical.port", port,
                        "pekko.cluster.seed-nodes", seeds,
                        "pekko.cluster.split-brain-resolver.stable-after", "2s")));
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline && members.stream().anyMatch(member ->
                    Cluster.get(member.system()).state().getMembers().spliterator().estimateSize() < 3
                            || Cluster.get(member.system()).selfMember().status() != MemberStatus.up())) {
                Thread.sleep(200);
            }
            for (ControlServer member : members) {
                assertEquals(MemberStatus.up(), Cluster.get(member.system()).selfMember().status());
            }
            String[] bases = members.stream().map(m -> "http://127.0.0.1:" + m.httpAddress().getPort())
                    .toArray(String[]::new);

            String organizationId = call(bases[0], "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"ha\"}")
                    .body().get("id").asText();
            String key = call(bases[1], "POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN,
                    "{\"reusable\":true}").body().get("key").asText();
            List<String> devices = new ArrayList<>();
            List<String> certificates = new ArrayList<>();
            String watcherToken = null;
            for (int i = 0; i < 6; i++) {
                JsonNode device = call(bases[i % 3], "POST", "/api/v1/register", key, "{\"publicKey\":\""
                        + publicKey(i) + "\",\"hostname\":\"node-" + i + "\"}").body();
                devices.add(device.get("id").asText());
                certificates.add(device.get("certificate").asText());
                if (i == 0) {
                    watcherToken = device.get("token").asText();
                }
            }
            // One CA for the cluster: the CA a relay fetches when it enrolls (through any member) verifies the
            // certificate of every device, whichever member registered it.
            String relayToken = call(bases[0], "POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"edge\"}")
                    .body().get("token").asText();
            List<X509Certificate> relayCas = new ArrayList<>();
            for (String base : bases) {
                relayCas.add(certificate(call(base, "POST", "/api/v1/relays/register", relayToken,
                        "{\"udp\":\"192.0.2.1:3340\"}").body().get("caCertificatePem").asText()));
            }
            assertEquals(1, relayCas.stream().distinct().count(), "every member hands relays the same CA");
            for (String pem : certificates) {
                certificate(pem).verify(relayCas.get(0).getPublicKey());
            }

            BlockingQueue<JsonNode> stream = ControlApiTest.watch(bases[2], watcherToken, "");
            JsonNode snapshot = stream.poll(20, TimeUnit.SECONDS);
            assertEquals(5, snapshot.get("peers").size(), String.valueOf(snapshot));
            long revision = snapshot.get("revision").asLong();

            members.remove(0).close();
            // The survivors see the cluster shrink to themselves, both up.
            for (String base : List.of(bases[1], bases[2])) {
                long shrinkDeadline = System.nanoTime() + 30_000_000_000L;
                JsonNode cluster = call(base, "GET", "/api/v1/cluster", ADMIN, null).body();
                while (cluster.get("members").size() != 2 && System.nanoTime() < shrinkDeadline) {
                    Thread.sleep(200);
                    cluster = call(base, "GET", "/api/v1/cluster", ADMIN, null).body();
                }
                assertEquals(2, cluster.get("members").size(), cluster.toString());
                for (JsonNode member : cluster.get("members")) {
                    assertEquals("Up", member.get("status").asText(), cluster.toString());
                }
            }

            // Through each survivor, every registration is still there (the shards moved).
            for (String base : List.of(bases[1], bases[2])) {
                JsonNode listed = call(base, "GET", "/api/v1/organizations/" + organizationId + "/devices", ADMIN,
                        null).body();
                assertEquals(6, listed.get("total").asInt(), String.valueOf(listed));
            }
            // A new device registered after the loss reaches a watcher that resumes on another member.
            JsonNode late = call(bases[1], "POST", "/api/v1/register", key, "{\"publicKey\":\"" + publicKey(99)
                    + "\",\"hostname\":\"late\"}").body();
            BlockingQueue<JsonNode> resumed = ControlApiTest.watch(bases[1], watcherToken, "?since=" + revision);
            JsonNode change = resumed.poll(20, TimeUnit.SECONDS);
            assertEquals("upsert", change.get("type").asText(), String.valueOf(change));
            assertTrue(change.get("peers").toString().contains(late.get("id").asText()));
        } finally {
            for (ControlServer member : members) {
                member.close();
            }
        }
    }
}
