package io.meshwork.tests.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/** Retries a call to the cluster while it reacts to a lost member (shards hand over after the resolver downs it). */
final class ClusterRetry {

    interface Call {
        JsonNode run() throws Exception;
    }

    private ClusterRetry() {}

    static JsonNode retry(Call call) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                return call.run();
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }
}
