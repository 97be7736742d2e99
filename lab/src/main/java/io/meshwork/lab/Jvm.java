package io.meshwork.lab;

import java.nio.file.Path;
import java.util.List;

/** How to start another JVM with the classes of this one: same java, same classpath. */
final class Jvm {

    private Jvm() {}

    /** System properties of this JVM passed on to the JVMs it starts: the node's tunnel settings. */
    static final String FORWARDED_PREFIX = "meshwork.tunnel.";

    static List<String> command() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m"));
        System.getProperties().stringPropertyNames().stream().filter(name -> name.startsWith(FORWARDED_PREFIX)).sorted()
                .forEach(name -> command.add("-D" + name + "=" + System.getProperty(name)));
        command.addAll(List.of("-cp", classpath()));
        return List.copyOf(command);
    }

    /** Surefire may start tests from a manifest-only jar; its own property then holds the real classpath. */
    static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }
}
