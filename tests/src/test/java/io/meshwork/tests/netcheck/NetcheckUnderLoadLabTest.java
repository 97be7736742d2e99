package io.meshwork.tests.netcheck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.lab.Coturn;
import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * netcheck on several hosts at once while the machine is busy (issue 23): every verdict must be what the
 * gateway does, in every round.
 *
 * <p>The lab: coturn with two public addresses (RFC 5780), four hosts behind endpoint-independent Linux NATs
 * ({@code MASQUERADE}) and one behind a {@code --random-fully} symmetric NAT. Two of the endpoint-independent
 * gateways drop unsolicited packets to themselves as home routers do; the other two accept them, as routers
 * without an input firewall do. At such a gateway the reply to the RFC 5780 §4.4 filtering test (sent from the
 * server's alternate IP and port) is not let through but leaves a conntrack entry, so a later mapping towards
 * that address collides with it and gets another port.
 *
 * <p>Busy: two shell busy loops run beside the five prober JVMs, and the server's answers from its alternate IP
 * come late: each client's first {@value #LATE_SECONDS} s of them are lost, as answers are on a loaded machine.
 * A prober that read that silence as a fact and went on to RFC 5780 §4.3 test III reported the permissive
 * gateways as symmetric.
 *
 * <p>Each host runs {@link NetcheckRounds}, the netcheck probe repeated in one JVM as a node's agent repeats it,
 * every round from a fresh socket and all hosts at the same moments. Its first probe only warms the JVM up and
 * is not judged: a cold JVM on a busy machine handles its first answers seconds late.
 */
class NetcheckUnderLoadLabTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PRIMARY = "203.0.113.10";
    private static final String ALTERNATE = "203.0.113.11";
    private static final int ROUNDS = 3;
    private static final int BUSY_LOOPS = 2;
    private static final int LATE_SECONDS = 3;
    private static final Duration BUDGET = Duration.ofSeconds(8);
    private static final Duration ROUND_INTERVAL = BUDGET.plusSeconds(1);
    /** Time for every JVM to start and run its warm-up probe before round 1. */
    private static final Duration WARM_UP = Duration.ofSeconds(25);

    @Test
    void everyHostIsClassifiedAsItsGatewayBehavesInEveryRound() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("turnserver");
        ExecutorService runner = Executors.newCachedThreadPool();
        try (Lab lab = Lab.create("mwncld")) {
            Host stun = lab.publicHost("stun", PRIMARY, ALTERNATE);
            Map<Host, Site> sites = new LinkedHashMap<>();
            for (String name : List.of("eima", "eimb", "eimc", "eimd")) {
                Site site = lab.site(name, NatKind.ENDPOINT_INDEPENDENT);
                sites.put(site.host("a"), site);
            }
            List<Site> permissive = new ArrayList<>(sites.values()).subList(2, 4);
            permissive.forEach(NetcheckUnderLoadLabTest::acceptUnsolicitedInput);
            Site symmetricSite = lab.site("sym", NatKind.SYMMETRIC);
            Host symmetric = symmetricSite.host("a");
            sites.put(symmetric, symmetricSite);
            Coturn.start(stun, 3478, PRIMARY, ALTERNATE);
            answerLateFromAlternate(stun);
            for (int i = 0; i < BUSY_LOOPS; i++) {
                stun.spawn("busy" + i, List.of("sh", "-c", "while :; do :; done"));
            }

            long startAt = System.currentTimeMillis() + WARM_UP.toMillis();
            Map<Host, CompletableFuture<ExecResult>> runs = new LinkedHashMap<>();
            for (Host host : sites.keySet()) {
                runs.put(host, CompletableFuture.supplyAsync(() -> host.javaExec(Duration.ofSeconds(120),
                        NetcheckRounds.class, "--stun", PRIMARY + ":3478", "--stun", ALTERNATE + ":3478",
                        "--rounds", Integer.toString(ROUNDS), "--timeout", BUDGET.toString(),
                        "--start-at", Long.toString(startAt), "--interval", ROUND_INTERVAL.toString()), runner));
            }
            List<String> wrong = new ArrayList<>();
            int verdicts = 0;
            for (Map.Entry<Host, CompletableFuture<ExecResult>> run : runs.entrySet()) {
                Host host = run.getKey();
                Site site = sites.get(host);
                ExecResult result = run.getValue().join();
                Map<Integer, JsonNode> reports = reports(result);
                for (int round = 1; round <= ROUNDS; round++) {
                    JsonNode report = reports.get(round);
                    String where = "round " + round + ", " + site + (permissive.contains(site) ? " accepting" : "");
                    String problem = report == null ? "no report: " + result.describe()
                            : host == symmetric ? notSymmetric(report) : notPortRestrictedCone(report, site);
                    verdicts++;
                    if (problem != null) {
                        wrong.add(where + ": " + problem);
                    }
                }
            }
            assertTrue(wrong.isEmpty(), wrong.size() + " of " + verdicts + " verdicts wrong:\n" + String.join("\n", wrong));
        } finally {
            runner.shutdownNow();
        }
    }

    /** The reports of one {@link NetcheckRounds} run by round. */
    private static Map<Integer, JsonNode> reports(ExecResult result) {
        Map<Integer, JsonNode> reports = new LinkedHashMap<>();
        for (String line : result.stdout().lines().filter(line -> line.startsWith("ROUND ")).toList()) {
            String[] parts = line.split(" ", 3);
            try {
                reports.put(Integer.parseInt(parts[1]), JSON.readTree(parts[2]));
            } catch (IOException | RuntimeException e) {
                // Left out: the round counts as without a report.
            }
        }
        return reports;
    }

    /** Null when the report is an endpoint-independent mapping with address-and-port-dependent filtering. */
    private static String notPortRestrictedCone(JsonNode report, Site site) {
        boolean right = report.get("udp").asBoolean()
                && "endpointindependent".equals(normalized(report.get("mapping")))
                && "addressandportdependent".equals(normalized(report.get("filtering")))
                && "portrestrictedcone".equals(normalized(report.get("classic")))
                && report.get("publicEndpoints").size() == 1
                && report.get("publicEndpoints").get(0).asText().startsWith(site.publicAddress() + ":")
                && report.get("portPreserving").asBoolean();
        return right ? null : report.toString();
    }

    /** Null when the report is a symmetric NAT: a mapping that depends on the destination. */
    private static String notSymmetric(JsonNode report) {
        String mapping = normalized(report.get("mapping"));
        boolean right = report.get("udp").asBoolean()
                && mapping.endsWith("dependent") && !mapping.equals("endpointindependent")
                && "symmetric".equals(normalized(report.get("classic")))
                && !report.get("portPreserving").asBoolean();
        return right ? null : report.toString();
    }

    /** Removes the gateway's rule that drops new connections to itself from the internet (see {@link NatKind}). */
    private static void acceptUnsolicitedInput(Site site) {
        site.gateway().exec("iptables", "-D", "INPUT", "-i", "eth0", "-m", "conntrack", "--ctstate", "NEW,INVALID",
                "-j", "DROP").orThrow();
    }

    /**
     * Makes the server's answers from its alternate IP's primary port late: each client address's first
     * {@value #LATE_SECONDS} s of them, counted from its first request there, are dropped; retransmissions after
     * that are answered.
     */
    private static void answerLateFromAlternate(Host stun) {
        stun.exec("iptables", "-A", "INPUT", "-p", "udp", "-d", ALTERNATE, "--dport", "3478", "-m", "conntrack",
                "--ctstate", "NEW", "-m", "recent", "--name", "late", "--set").orThrow();
        stun.exec("iptables", "-A", "OUTPUT", "-p", "udp", "-s", ALTERNATE, "--sport", "3478", "-m", "recent",
                "--name", "late", "--rdest", "--rcheck", "--seconds", Integer.toString(LATE_SECONDS), "-j", "DROP")
                .orThrow();
    }

    /** "ENDPOINT_INDEPENDENT", "endpoint-independent" and "Endpoint Independent" all become "endpointindependent". */
    private static String normalized(JsonNode value) {
        return value == null ? "<missing>" : value.asText().toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "");
    }
}
