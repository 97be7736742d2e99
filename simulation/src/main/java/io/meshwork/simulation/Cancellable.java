package io.meshwork.simulation;

/** A scheduled task that can still be called off. */
@FunctionalInterface
public interface Cancellable {

    /** Stops the task from running; true when it had not run yet and now never will. */
    boolean cancel();
}
