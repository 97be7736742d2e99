package io.meshwork.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One {@code meshwork admin} run against a control at {@code url} with an admin token: its exit code and output. */
public record AdminRun(int exit, String out, String err) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static AdminRun run(String url, String adminToken, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine command = new CommandLine(new AdminCommand());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        String[] full = new String[args.length + 4];
        full[0] = "--control";
        full[1] = url;
        full[2] = "--token";
        full[3] = adminToken;
        System.arraycopy(args, 0, full, 4, args.length);
        int exit = command.execute(full);
        return new AdminRun(exit, out.toString(), err.toString());
    }

    public JsonNode json() throws Exception {
        return JSON.readTree(out);
    }
}
