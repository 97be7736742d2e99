package io.meshwork.control;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Answers of Pekko asks, handed on from the actor system's dispatcher.
 *
 * <p>An ask's {@link CompletionStage} wraps a Scala future, and such a stage runs every continuation added without
 * an executor ({@code thenApply}, {@code whenComplete}, {@code exceptionally}, ...) on
 * {@link java.util.concurrent.ForkJoinPool#commonPool()}, whatever completes it: the reply or the ask's timeout. The
 * common pool has one thread per core but one (a single thread on two cores), is shared with all code in the JVM,
 * and a blocking task there holds every such continuation back, the timeouts too: control then stops answering
 * whatever waits on one, with no thread busy. That includes Pekko's own Java {@code ActorContext.ask} and
 * {@code pipeToSelf} given such a stage. Every ask of control goes through {@link #onDispatcher}, so what follows an
 * answer runs where the actors run, whatever the common pool is doing; callbacks on a stream's termination stage
 * (cheap bookkeeping) run where it completes, through {@link #DIRECT}.
 */
public final class Answers {

    /** Runs a continuation on the thread that completes the stage: for cheap ones only. */
    public static final Executor DIRECT = Runnable::run;

    private Answers() {}

    /** {@code stage} as a plain stage completed on {@code dispatcher}: its continuations never reach the common pool. */
    public static <T> CompletionStage<T> onDispatcher(CompletionStage<T> stage, Executor dispatcher) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        stage.whenCompleteAsync((value, failure) -> {
            if (failure != null) {
                answer.completeExceptionally(failure);
            } else {
                answer.complete(value);
            }
        }, dispatcher);
        return answer;
    }
}
