package io.meshwork.cli;

import picocli.CommandLine;

/** Reports the version from the jar manifest, or "development" when run from classes. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Meshwork.class.getPackage().getImplementationVersion();
        return new String[] {"meshwork " + (version == null ? "development" : version)};
    }
}
