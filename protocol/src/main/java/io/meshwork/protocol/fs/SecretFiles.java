package io.meshwork.protocol.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.UUID;

/**
 * Files that hold secrets (a node's private key and device token, control's admin token, the CA's database) and
 * the directories they live in. A secret is never readable by others, not even for a moment: its file is created
 * with mode 0600 (the mode is given at creation, not set afterwards), written whole, synced, and moved into place
 * atomically, so a crash leaves the old file or the new one and never half of either. Directories made for them
 * get 0700. See docs/operations.md, "Files and secrets".
 */
public final class SecretFiles {

    /** rw-------: only the owner reads and writes. */
    public static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    /** rwx------: only the owner lists and enters. */
    public static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private SecretFiles() {}

    /**
     * Creates {@code directory} and its missing parents, each new one 0700. A directory that exists keeps its mode
     * (an operator may have chosen it); {@link #isPrivate} tells whether it is.
     */
    public static Path createPrivateDirectories(Path directory) throws IOException {
        Path absolute = directory.toAbsolutePath();
        if (Files.isDirectory(absolute)) {
            return directory;
        }
        Path parent = absolute.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            createPrivateDirectories(parent);
        }
        try {
            Files.createDirectory(absolute, attribute(OWNER_ONLY_DIRECTORY));
        } catch (FileAlreadyExistsException raced) {
            if (!Files.isDirectory(absolute)) {
                throw raced;
            }
        } catch (UnsupportedOperationException notPosix) {
            Files.createDirectory(absolute);
        }
        return directory;
    }

    /** Writes {@code content} to {@code file}: created 0600, synced, then moved over any old file atomically. */
    public static void writeAtomically(Path file, byte[] content) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        createPrivateDirectories(directory);
        Path temporary = directory.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".new");
        try {
            try (FileChannel channel = open(temporary)) {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Whether {@code path} is readable by its owner only (no group or other permission bits). */
    public static boolean isPrivate(Path path) throws IOException {
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
        for (PosixFilePermission permission : permissions) {
            if (permission.name().startsWith("GROUP") || permission.name().startsWith("OTHERS")) {
                return false;
            }
        }
        return true;
    }

    private static FileChannel open(Path temporary) throws IOException {
        Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            return FileChannel.open(temporary, options, attribute(OWNER_ONLY_FILE));
        } catch (UnsupportedOperationException notPosix) {
            return FileChannel.open(temporary, options);
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> permissions) {
        return PosixFilePermissions.asFileAttribute(permissions);
    }
}
