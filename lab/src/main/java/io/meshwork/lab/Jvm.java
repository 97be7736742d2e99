package io.meshwork.lab;

import java.nio.file.Path;
import java.util.List;

/** How to start another JVM with the classes of this one: same java, same classpath. */
final class Jvm {

    private Jvm() {}

    static List<String> command() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", classpath());
    }

    /** Surefire may start tests from a manifest-only jar; its own property then holds the real classpath. */
    static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }
}
