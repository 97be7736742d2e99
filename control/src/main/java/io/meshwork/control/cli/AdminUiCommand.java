package io.meshwork.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code meshwork admin ui}: prints a one-time login link to the web console ({@code POST /api/v1/ui/login-links}),
 * so no long-lived token is pasted into a browser. The link logs in as the token that asked for it.
 */
@Command(name = "ui", mixinStandardHelpOptions = true,
        description = {"Print a one-time login link to the web console (valid once, for 5 minutes).",
            "The console acts with this command's token: the admin token sees every organization, an organization "
                    + "API token its own."})
final class AdminUiCommand implements java.util.concurrent.Callable<Integer> {

    @ParentCommand
    AdminCommand admin;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return admin.call(spec, "POST", "/api/v1/ui/login-links", null, false, link -> {
            spec.commandLine().getOut().println(link.path("url").asText());
            spec.commandLine().getOut().flush();
            spec.commandLine().getErr().println("Open it within 5 minutes; it works once.");
        });
    }
}
