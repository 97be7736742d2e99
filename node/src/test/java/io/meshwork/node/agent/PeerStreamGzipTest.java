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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The node asks for the peer stream in gzip and reads each event as soon as its line has arrived, compressed or not
 * (a control of an earlier release answers plain lines).
 */
class PeerStreamGzipTest {

    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private BlockingQueue<Object> follow(boolean gzip, CountDownLatch end, BlockingQueue<String> acceptEncoding)
            throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/peers/stream", exchange -> {
            acceptEncoding.add(String.valueOf(exchange.getRequestHeaders().getFirst("Accept-Encoding")));
            if (gzip) {
                exchange.getResponseHeaders().add("Content-Encoding", "gzip");
            }
            exchange.sendResponseHeaders(200, 0);
            OutputStream body = gzip ? new GZIPOutputStream(exchange.getResponseBody(), true)
                    : exchange.getResponseBody();
            body.write("{\"type\":\"snapshot\",\"revision\":7,\"peers\":[],\"removed\":[]}\n"
                    .getBytes(StandardCharsets.UTF_8));
            body.flush();
            try {
                // The first event must reach the node while the stream stays open.
                end.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            body.write("{\"type\":\"keepalive\",\"revision\":7,\"peers\":[],\"removed\":[]}\n"
                    .getBytes(StandardCharsets.UTF_8));
            body.close();
            exchange.close();
        });
        server.start();
        ControlClient client = new ControlClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
        BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        Thread follower = new Thread(() -> {
            try {
                client.followPeers("mwd.token", 0, events::add);
                events.add("ended");
            } catch (Exception e) {
                events.add(e);
            }
        });
        follower.setDaemon(true);
        follower.start();
        return events;
    }

    @Test
    void aGzipStreamIsDecodedLineByLineAsItArrives() throws Exception {
        CountDownLatch end = new CountDownLatch(1);
        BlockingQueue<String> asked = new LinkedBlockingQueue<>();
        BlockingQueue<Object> events = follow(true, end, asked);
        assertEquals("gzip", asked.poll(30, TimeUnit.SECONDS));
        Object first = events.poll(30, TimeUnit.SECONDS);
        assertNotNull(first, "the first event arrived before the stream went on");
        assertEquals(PeerMapEvent.SNAPSHOT, ((PeerMapEvent) first).type());
        assertEquals(7, ((PeerMapEvent) first).revision());
        end.countDown();
        assertEquals(PeerMapEvent.KEEPALIVE, ((PeerMapEvent) events.poll(30, TimeUnit.SECONDS)).type());
        assertEquals("ended", events.poll(30, TimeUnit.SECONDS));
    }

    @Test
    void plainLinesFromAControlThatDoesNotCompressStillWork() throws Exception {
        CountDownLatch end = new CountDownLatch(1);
        BlockingQueue<Object> events = follow(false, end, new LinkedBlockingQueue<>());
        assertEquals(PeerMapEvent.SNAPSHOT, ((PeerMapEvent) events.poll(30, TimeUnit.SECONDS)).type());
        end.countDown();
        assertEquals(PeerMapEvent.KEEPALIVE, ((PeerMapEvent) events.poll(30, TimeUnit.SECONDS)).type());
        assertEquals("ended", events.poll(30, TimeUnit.SECONDS));
    }
}
