package io.meshwork.node.routing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A host that records the commands run on it and keeps sysctls in memory; commands in {@code failing} fail. */
final class FakeHost implements HostChanges.Host {

    final List<List<String>> commands = new ArrayList<>();
    final Map<String, String> sysctls = new HashMap<>(Map.of("/proc/sys/net/ipv4/ip_forward", "0",
            "/proc/sys/net/ipv6/conf/all/forwarding", "0"));
    final Set<String> programs;
    final List<String> failing = new ArrayList<>();

    FakeHost(Set<String> programs) {
        this.programs = programs;
    }

    @Override
    public void run(List<String> command) throws IOException {
        commands.add(command);
        String line = String.join(" ", command);
        for (String fail : failing) {
            if (line.contains(fail)) {
                throw new IOException(line + " failed");
            }
        }
    }

    @Override
    public String output(List<String> command) throws IOException {
        run(command);
        return "";
    }

    @Override
    public boolean has(String program) {
        return programs.contains(program);
    }

    @Override
    public String readSysctl(String path) {
        return sysctls.getOrDefault(path, "0");
    }

    @Override
    public void writeSysctl(String path, String value) {
        sysctls.put(path, value);
    }

    /** The commands run so far as lines, then forgotten. */
    List<String> take() {
        List<String> lines = commands.stream().map(c -> String.join(" ", c)).toList();
        commands.clear();
        return lines;
    }
}
