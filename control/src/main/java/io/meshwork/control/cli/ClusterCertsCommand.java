package io.meshwork.control.cli;

import io.meshwork.control.tls.ClusterCredentials;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code meshwork control cluster-certs}: the credentials of an N-member control cluster, for Artery's TLS with
 * mutual authentication (docs/operations.md, "Cluster TLS"). Layout of {@code --out DIR}:
 *
 * <pre>
 * DIR/ca.crt, DIR/ca.key        the cluster CA (ECDSA P-256); keep ca.key off the members
 * DIR/member-1/ … member-N/     one per member, for --cluster-certs: ca.crt, tls.crt, tls.key (RSA 3072)
 * </pre>
 *
 * Run again on the same directory with a larger N it reuses the CA and adds the missing members; a member
 * directory that exists is left as it is (remove it to issue that member a new key and certificate). With every
 * member directory there already it makes nothing and needs no CA key, so an init container can run it each time.
 */
@Command(name = "cluster-certs", mixinStandardHelpOptions = true,
        description = {"Make the credentials of an N-member control cluster's members for the cluster port.",
            "One cluster CA and, per member, a key and a certificate signed by it (PEM, every file 0600,",
            "directories 0700).",
            "DIR/ca.crt and DIR/ca.key: the CA (keep ca.key off the members; it only issues more).",
            "DIR/member-I/{ca.crt,tls.crt,tls.key}: what member I is given with --cluster-certs DIR/member-I.",
            "On a DIR with a CA already, the CA is reused and only missing member directories are made."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:written", "1:could not write", "2:usage error (also: an unusable CA in DIR)"})
public final class ClusterCertsCommand implements Callable<Integer> {

    /** More members than any cluster needs: a typo, not a request for a million keys. */
    static final int MAX_MEMBERS = 100;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Where to write (made 0700 if missing).")
    File out;

    @Option(names = "--members", paramLabel = "N", required = true, description = "How many members (1-100).")
    int members;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (members < 1 || members > MAX_MEMBERS) {
            spec.commandLine().getErr().println("meshwork control cluster-certs: --members must be 1 to "
                    + MAX_MEMBERS + ", not " + members);
            return 2;
        }
        Path directory = out.toPath();
        List<Path> missing = new ArrayList<>();
        for (int i = 1; i <= members; i++) {
            if (!Files.exists(directory.resolve("member-" + i))) {
                missing.add(directory.resolve("member-" + i));
            }
        }
        if (missing.isEmpty()) {
            // Nothing to make, so the CA key is not needed (it may have been moved off this machine).
            spec.commandLine().getOut().println("meshwork control cluster-certs: " + directory + " has member-1 … "
                    + "member-" + members + " already; nothing made");
            return 0;
        }
        ClusterCredentials.ClusterCa ca;
        boolean reused = Files.exists(directory.resolve(ClusterCredentials.CA_CERTIFICATE))
                || Files.exists(directory.resolve(ClusterCredentials.CA_KEY));
        try {
            if (reused) {
                ca = ClusterCredentials.loadCa(directory);
            } else {
                ca = ClusterCredentials.newCa();
                ClusterCredentials.writeCa(directory, ca);
            }
        } catch (ClusterCredentials.UnusableCredentialsException e) {
            spec.commandLine().getErr().println("meshwork control cluster-certs: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            spec.commandLine().getErr().println("meshwork control cluster-certs: cannot write " + directory + ": "
                    + e.getMessage());
            return 1;
        }
        for (Path member : missing) {
            try {
                ClusterCredentials.writeMember(member, ca, member.getFileName().toString());
            } catch (IOException e) {
                spec.commandLine().getErr().println("meshwork control cluster-certs: cannot write " + member + ": "
                        + e.getMessage());
                return 1;
            }
        }
        spec.commandLine().getOut().println("meshwork control cluster-certs: " + (reused ? "reused the CA in "
                : "a new cluster CA in ") + directory + ", " + missing.size() + " member director" + (missing.size() == 1 ? "y" : "ies")
                + " made (member-1 … member-" + members + "); give each member its own: meshwork control "
                + "--cluster-certs " + directory.resolve("member-1") + " (MESHWORK_CLUSTER_CERTS)");
        return 0;
    }
}
