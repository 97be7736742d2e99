package io.meshwork.control.http;

import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Passes elements on unchanged and runs {@code stopped} once when the stream stops, however it stops (completed,
 * failed, cancelled, or torn down with its connection).
 *
 * <p>What {@code watchTermination} does for streams that only need to count or unsubscribe, without its cost: when
 * a connection is torn down, a {@code watchTermination} stage fails its future with an exception whose message names
 * the stage by the source location of its lambda, which Pekko finds by reading the lambda's class file. A reconnect
 * storm closes thousands of streams at once, and that took a seventh of control's CPU (docs/performance.md). The
 * callback must be cheap: it runs on the stream's thread.
 */
final class OnStop<T> extends GraphStage<FlowShape<T, T>> {

    private final Inlet<T> in = Inlet.create("OnStop.in");
    private final Outlet<T> out = Outlet.create("OnStop.out");
    private final FlowShape<T, T> shape = FlowShape.of(in, out);
    private final Runnable stopped;

    OnStop(Runnable stopped) {
        this.stopped = stopped;
    }

    @Override
    public FlowShape<T, T> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new GraphStageLogic(shape) {
            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        push(out, grab(in));
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        pull(in);
                    }
                });
            }

            @Override
            public void postStop() {
                stopped.run();
            }
        };
    }
}
