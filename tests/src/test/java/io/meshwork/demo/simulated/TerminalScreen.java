package io.meshwork.demo.simulated;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lines a terminal would show after {@code output}, for the sequences the table writes: cursor up
 * ({@code ESC[nA}), carriage return, clear to the end of the line ({@code ESC[K}) and clear below ({@code ESC[J}).
 */
public final class TerminalScreen {

    private static final Pattern SEQUENCE = Pattern.compile("\033\\[(\\d*)([AKJ])|\r|\n");

    private TerminalScreen() {}

    public static List<String> of(String output) {
        List<StringBuilder> lines = new ArrayList<>(List.of(new StringBuilder()));
        int row = 0;
        int column = 0;
        Matcher matcher = SEQUENCE.matcher(output);
        int at = 0;
        while (at < output.length()) {
            boolean found = matcher.find(at);
            int textEnd = found ? matcher.start() : output.length();
            StringBuilder line = lines.get(row);
            for (int i = at; i < textEnd; i++) {
                if (column < line.length()) {
                    line.setCharAt(column, output.charAt(i));
                } else {
                    line.append(output.charAt(i));
                }
                column++;
            }
            if (!found) {
                break;
            }
            String sequence = matcher.group();
            if (sequence.equals("\n")) {
                row++;
                column = 0;
                if (row == lines.size()) {
                    lines.add(new StringBuilder());
                }
            } else if (sequence.equals("\r")) {
                column = 0;
            } else if (matcher.group(2).equals("A")) {
                row = Math.max(0, row - Integer.parseInt(matcher.group(1)));
            } else if (matcher.group(2).equals("K")) {
                lines.get(row).setLength(Math.min(column, lines.get(row).length()));
            } else {
                lines.get(row).setLength(Math.min(column, lines.get(row).length()));
                lines.subList(row + 1, lines.size()).clear();
            }
            at = matcher.end();
        }
        List<String> screen = new ArrayList<>(lines.stream().map(StringBuilder::toString).toList());
        while (!screen.isEmpty() && screen.get(screen.size() - 1).isEmpty()) {
            screen.remove(screen.size() - 1);
        }
        return screen;
    }
}
