package io.meshwork.control.http;

import io.meshwork.control.organization.DnsSettings;
import io.meshwork.protocol.api.DnsConfig;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The DNS settings one peer stream follows: the organization's current settings once, then every change its
 * {@link DnsSettings} entity publishes on the organization's topic (on any member). Only newer versions pass, so
 * the first read and a change that crossed it arrive in order. A stream that reads slowly keeps only the newest
 * change (a buffer of one): settings are sent whole, so nothing is lost by skipping.
 */
final class DnsFeed {

    private final ActorSystem<?> system;
    private final Function<String, CompletionStage<DnsSettings.Reply>> read;

    DnsFeed(ActorSystem<?> system, Function<String, CompletionStage<DnsSettings.Reply>> read) {
        this.system = system;
        this.read = read;
    }

    /** The settings of {@code organizationId} as one stream follows them; never ends by itself. */
    Source<DnsConfig, NotUsed> configs(String organizationId) {
        AtomicLong sent = new AtomicLong(-1);
        Source<DnsSettings.Changed, NotUsed> changes = Source.<Object>actorRef(
                        message -> Optional.empty(), message -> Optional.empty(), 1, OverflowStrategy.dropHead())
                .mapMaterializedValue(subscriber -> {
                    // The topic watches its subscribers: the stream's end unsubscribes it.
                    DnsSettings.topic(system, organizationId).tell(Topic.subscribe(Adapter.toTyped(subscriber)));
                    return NotUsed.getInstance();
                })
                .collectType(DnsSettings.Changed.class);
        Source<DnsSettings.Changed, NotUsed> current = Source.completionStage(read.apply(organizationId))
                .filter(DnsSettings.Reply::isOk)
                .map(reply -> new DnsSettings.Changed(reply.config(), reply.version()))
                // Not answering now: the next change brings the settings.
                .recoverWithRetries(1, Throwable.class, Source::empty);
        return current.merge(changes)
                .filter(changed -> sent.getAndAccumulate(changed.version(), Math::max) < changed.version())
                .map(DnsSettings.Changed::config);
    }
}
