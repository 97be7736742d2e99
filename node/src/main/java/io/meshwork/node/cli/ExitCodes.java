package io.meshwork.node.cli;

/** Exit codes shared by the node's commands, so scripts can tell outcomes apart. */
public final class ExitCodes {
    /** Done as asked. */
    public static final int OK = 0;
    /** The command ran but the outcome is negative: no ping reply, UDP blocked. */
    public static final int NEGATIVE = 1;
    /** Bad arguments (picocli's own code for usage errors). */
    public static final int USAGE = 2;
    /** No agent is running, or it could not be reached. */
    public static final int NO_AGENT = 3;

    private ExitCodes() {}
}
