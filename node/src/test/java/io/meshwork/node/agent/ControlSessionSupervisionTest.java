package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.sun.net.httpserver.HttpServer;
import io.meshwork.protocol.api.PeerMapEvent;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A peer-map event that makes the applier throw must not stop the session: it restarts and follows the map again
 * from a full snapshot, and later events still arrive. Against a small HTTP server that plays control's stream.
 */
class ControlSessionSupervisionTest {

    private final ActorTestKit testKit = ActorTestKit.create();
    private final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private HttpServer server;

    @AfterEach
    void stop() {
        testKit.shutdownTestKit();
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void anEventThatCannotBeAppliedRestartsTheSessionFromAFullSnapshot() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/api/v1/peers/stream", exchange -> {
            requests.add(String.valueOf(exchange.getRequestURI().getQuery()));
            int connection = connections.incrementAndGet();
            exchange.getResponseHeaders().add("Content-Type", "application/x-ndjson");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream body = exchange.getResponseBody()) {
                String lines = connection == 1
                        ? "{\"type\":\"snapshot\",\"revision\":5,\"peers\":[],\"removed\":[]}\n"
                                + "{\"type\":\"upsert\",\"revision\":6,\"peers\":[],\"removed\":[]}\n"
                        : "{\"type\":\"snapshot\",\"revision\":7,\"peers\":[],\"removed\":[]}\n";
                body.write(lines.getBytes(StandardCharsets.UTF_8));
                body.flush();
                Thread.sleep(30_000);
            } catch (InterruptedException | java.io.IOException e) {
                // the client went away
            }
        });
        server.start();
        ControlClient client = new ControlClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));

        BlockingQueue<Long> applied = new LinkedBlockingQueue<>();
        ActorRef<ControlSession.Command> session = testKit.spawn(ControlSession.create(client, "mwd.x.y", event -> {
            if (event.type().equals(PeerMapEvent.UPSERT)) {
                throw new IllegalStateException("a bug while applying revision " + event.revision());
            }
            applied.add(event.revision());
        }, () -> { }, Executors.newSingleThreadExecutor()));
        session.tell(ControlSession.Start.INSTANCE);

        assertEquals(5L, applied.poll(10, TimeUnit.SECONDS));
        assertEquals("null", requests.poll(10, TimeUnit.SECONDS), "the first stream starts from a snapshot");
        String again = requests.poll(15, TimeUnit.SECONDS);
        assertNotNull(again, "the session came back after the failure");
        assertEquals("null", again, "and asked for a full snapshot, not a resume");
        assertEquals(7L, applied.poll(10, TimeUnit.SECONDS), "events arrive again after the restart");
    }
}
