package io.meshwork.control.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.ca.ClusterAuthority;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSelection;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cluster port admits only holders of credentials from the cluster's CA. A running control member (its
 * credentials from {@code cluster-certs}); a process with another member's credentials from the same run joins,
 * reaches the {@code ClusterAuthority} entity (which answers with the CA, key included) and resolves actors on the
 * member. A process with no credentials (plain TCP) and one with credentials from another CA try the very same
 * three things and get nothing: no membership, no answer, no actor.
 */
class ClusterTlsTest {

    /** How long an intruder is given; the member with credentials joins and is answered well within it. */
    private static final Duration INTRUDER_WINDOW = Duration.ofSeconds(10);
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(60);

    private static Path certificates;
    private static ControlServer member;
    private static Address memberAddress;
    private static final List<ActorSystem<?>> systems = new ArrayList<>();

    @BeforeAll
    static void startMember() throws Exception {
        Path directory = Files.createTempDirectory("mwc-cluster-tls");
        certificates = directory.resolve("certs");
        ClusterCredentials.ClusterCa ca = ClusterCredentials.newCa();
        ClusterCredentials.writeCa(certificates, ca);
        ClusterCredentials.writeMember(certificates.resolve("member-1"), ca, "member-1");
        ClusterCredentials.writeMember(certificates.resolve("member-2"), ca, "member-2");
        ClusterCredentials.ClusterCa foreign = ClusterCredentials.newCa();
        ClusterCredentials.writeMember(directory.resolve("foreign"), foreign, "member-1");

        int port = freePort();
        member = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", directory.resolve("data").toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", "mwa.cluster-tls",
                "meshwork.control.cluster-tls.directory", certificates.resolve("member-1").toString(),
                "pekko.remote.artery.canonical.port", port))));
        memberAddress = Cluster.get(member.system()).selfMember().address();
    }

    @AfterAll
    static void stop() throws Exception {
        for (ActorSystem<?> system : systems) {
            system.terminate();
        }
        for (ActorSystem<?> system : systems) {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        if (member != null) {
            member.close();
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** A process configured as a control member, with {@code overrides}, that asks to join the member. */
    private static ActorSystem<Void> candidate(Map<String, Object> overrides) throws Exception {
        Map<String, Object> settings = new HashMap<>(Map.of(
                "meshwork.control.data-dir", Files.createTempDirectory("mwc-cluster-tls-candidate").toString(),
                "pekko.remote.artery.canonical.port", 0,
                "pekko.cluster.seed-nodes", List.of()));
        settings.putAll(overrides);
        Config config = ControlServer.configuration(ConfigFactory.parseMap(settings));
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "meshwork", config);
        systems.add(system);
        Cluster.get(system).manager().tell(Join.create(memberAddress));
        return system;
    }

    /** Asks the member's ClusterAuthority shard region directly (no sharding on this side) to adopt a CA. */
    private static TestProbe<ClusterAuthority.Reply> askAuthority(ActorSystem<Void> from) {
        TestProbe<ClusterAuthority.Reply> probe = TestProbe.create(from);
        ActorSelection region = Adapter.toClassic(from).actorSelection(memberAddress
                + "/system/sharding/" + ClusterAuthority.ENTITY_KEY.name());
        ClusterAuthority.Material offered = new ClusterAuthority.Material(
                CertificateAuthority.generate().privateKeyPem(), CertificateAuthority.generate().certificatePem());
        region.tell(new ShardingEnvelope<>(ClusterAuthority.ID, new ClusterAuthority.Adopt(offered, "intruder",
                System.currentTimeMillis(), probe.ref())), org.apache.pekko.actor.ActorRef.noSender());
        return probe;
    }

    /** Resolves the member's ClusterAuthority shard region by path, as any reader would start. */
    private static CompletableFuture<org.apache.pekko.actor.ActorRef> resolveRegion(ActorSystem<Void> from,
            Duration timeout) {
        return Adapter.toClassic(from).actorSelection(memberAddress + "/system/sharding/"
                + ClusterAuthority.ENTITY_KEY.name()).resolveOne(timeout).toCompletableFuture();
    }

    private static boolean isMember(Address address) {
        for (Member each : Cluster.get(member.system()).state().getMembers()) {
            if (each.address().equals(address)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void onlyAProcessWithCredentialsFromTheClusterCaJoinsReachesEntitiesAndReads() throws Exception {
        // The member with credentials from the same cluster-certs run: the positive control for every check below.
        ActorSystem<Void> colleague = candidate(Map.of("meshwork.control.cluster-tls.directory",
                certificates.resolve("member-2").toString()));
        long deadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
        while (Cluster.get(colleague).selfMember().status() != MemberStatus.up() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(MemberStatus.up(), Cluster.get(colleague).selfMember().status(), "the colleague joins");
        assertTrue(isMember(Cluster.get(colleague).selfMember().address()));
        ClusterAuthority.Reply answer = askAuthority(colleague).receiveMessage(JOIN_TIMEOUT);
        assertNotNull(answer.adopted(), "a member reaches the entity, and it answers with the CA: " + answer);
        assertTrue(answer.adopted().privateKeyPem().contains("PRIVATE KEY"));
        assertNotNull(resolveRegion(colleague, JOIN_TIMEOUT).get(JOIN_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS));

        ActorSystem<Void> plain = candidate(Map.of("pekko.remote.artery.transport", "tcp"));
        ActorSystem<Void> foreign = candidate(Map.of("meshwork.control.cluster-tls.directory",
                certificates.getParent().resolve("foreign").toString()));
        for (ActorSystem<Void> intruder : List.of(plain, foreign)) {
            String who = intruder == plain ? "no credentials (plain TCP)" : "credentials from another CA";
            TestProbe<ClusterAuthority.Reply> probe = askAuthority(intruder);
            CompletableFuture<org.apache.pekko.actor.ActorRef> resolved = resolveRegion(intruder, INTRUDER_WINDOW);
            // Not answered within the window in which the colleague was answered.
            probe.expectNoMessage(INTRUDER_WINDOW);
            try {
                org.apache.pekko.actor.ActorRef leaked = resolved.get(INTRUDER_WINDOW.toSeconds() + 5, TimeUnit.SECONDS);
                fail(who + ": resolved " + leaked);
            } catch (ExecutionException expected) {
                // ActorNotFound: nothing came back.
            }
            assertFalse(Cluster.get(intruder).selfMember().status() == MemberStatus.up(), who + " is not up");
            assertFalse(isMember(Cluster.get(intruder).selfMember().address()), who + " is not a member");
        }
        assertEquals(2, Cluster.get(member.system()).state().getMembers().spliterator().estimateSize(),
                "the member and its colleague, nobody else");
    }
}
