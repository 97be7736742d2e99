package io.meshwork.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * miniupnpd (Debian's {@code miniupnpd-iptables}) on the gateway of a {@link Lab#portMappingSite port-mapping
 * site}: NAT-PMP, PCP and UPnP IGD for the site's LAN, in secure mode (a client maps ports to itself only),
 * mapping ports 1024-65535 of the LAN and nothing else. Its own configuration file and pid file are in the lab's
 * directory; the chains it writes its rules to (MINIUPNPD in the nat, mangle and filter tables,
 * MINIUPNPD-POSTROUTING in nat) are made here as the package's {@code iptables_init.sh} makes them, hooked in
 * before the site's NAT rules. The daemon runs in the foreground ({@code -d}) as a lab process, so it stops with
 * the lab and its log is the process log.
 */
public final class PortMappingGateway {

    private static final String IPTABLES = "iptables-legacy";
    private static final Pattern READY = Pattern.compile("Listening for NAT-PMP/PCP traffic on port 5351");

    private final Site site;
    private final LabProcess daemon;

    private PortMappingGateway(Site site, LabProcess daemon) {
        this.site = site;
        this.daemon = daemon;
    }

    /** Starts miniupnpd on {@code site}'s gateway and waits until it listens. */
    public static PortMappingGateway start(Lab lab, Site site) {
        Host gateway = site.gateway();
        for (List<String> rule : List.of(
                List.of("-t", "nat", "-N", "MINIUPNPD"),
                List.of("-t", "nat", "-I", "PREROUTING", "-i", "eth0", "-j", "MINIUPNPD"),
                List.of("-t", "mangle", "-N", "MINIUPNPD"),
                List.of("-t", "mangle", "-I", "PREROUTING", "-i", "eth0", "-j", "MINIUPNPD"),
                List.of("-t", "filter", "-N", "MINIUPNPD"),
                List.of("-t", "filter", "-I", "FORWARD", "-i", "eth0", "!", "-o", "eth0", "-j", "MINIUPNPD"),
                // Mapped ports leave through their mapping (MASQUERADE --to-ports), before the site's own NAT.
                List.of("-t", "nat", "-N", "MINIUPNPD-POSTROUTING"),
                List.of("-t", "nat", "-I", "POSTROUTING", "-o", "eth0", "-j", "MINIUPNPD-POSTROUTING"))) {
            String[] command = new String[rule.size() + 1];
            command[0] = IPTABLES;
            for (int i = 0; i < rule.size(); i++) {
                command[i + 1] = rule.get(i);
            }
            gateway.exec(command).orThrow();
        }
        Path config = lab.directory().resolve("miniupnpd-" + site.name() + ".conf");
        try {
            Files.writeString(config, String.join("\n",
                    "ext_ifname=eth0",
                    "listening_ip=br0",
                    "http_port=0",
                    "enable_natpmp=yes",
                    "enable_upnp=yes",
                    "secure_mode=yes",
                    "system_uptime=no",
                    "ipv6_disable=yes",
                    "min_lifetime=120",
                    "max_lifetime=86400",
                    "notify_interval=60",
                    "uuid=6d656e73-686d-4f72-6b00-" + String.format("%012x", site.name().hashCode() & 0xFFFFFFFFL),
                    "allow 1024-65535 " + site.lanCidr() + " 1024-65535",
                    "deny 0-65535 0.0.0.0/0 0-65535",
                    ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LabProcess daemon = gateway.spawn("miniupnpd", List.of("miniupnpd", "-d", "-f", config.toString(),
                "-P", lab.directory().resolve("miniupnpd-" + site.name() + ".pid").toString()));
        daemon.awaitOutput(READY, Duration.ofSeconds(20));
        return new PortMappingGateway(site, daemon);
    }

    public Site site() {
        return site;
    }

    /** The daemon; its output (miniupnpd's log, every request it served) is in {@link LabProcess#log()}. */
    public LabProcess daemon() {
        return daemon;
    }

    /** The gateway's NAT and filter rules as {@code iptables-legacy-save} prints them, mappings included. */
    public String rules() {
        return site.gateway().exec("iptables-legacy-save").orThrow().stdout();
    }
}
