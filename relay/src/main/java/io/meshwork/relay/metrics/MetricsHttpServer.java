package io.meshwork.relay.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves {@code GET /metrics} (Prometheus text format) and {@code GET /health} on the JDK's HTTP server, on
 * one thread of its own so scrapes never touch the forwarding threads. Anything else is a 404 or 405 with a
 * JSON body.
 */
public final class MetricsHttpServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static MetricsHttpServer start(InetSocketAddress bind, RelayMetrics metrics) throws IOException {
        HttpServer server = HttpServer.create(bind, 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "relay-metrics-http");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            try (exchange) {
                route(exchange, metrics);
            }
        });
        server.start();
        return new MetricsHttpServer(server, executor);
    }

    private static void route(HttpExchange exchange, RelayMetrics metrics) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (!path.equals("/metrics") && !path.equals("/health")) {
            respond(exchange, 404, "application/json", "{\"error\":\"not found\"}");
        } else if (!exchange.getRequestMethod().equals("GET")) {
            respond(exchange, 405, "application/json", "{\"error\":\"method not allowed\"}");
        } else if (path.equals("/health")) {
            respond(exchange, 200, "application/json", "{\"status\":\"ok\"}");
        } else {
            respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
        }
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
