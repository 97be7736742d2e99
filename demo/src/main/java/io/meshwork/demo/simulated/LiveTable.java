package io.meshwork.demo.simulated;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table of paths both demos show while paths form (the one on network namespaces and the simulated one).
 *
 * <p>On a terminal a frame replaces the one before it in place: the cursor moves back up over the previous frame,
 * each line is cut to the width and the rest of it cleared, then everything below is cleared. So the table stays
 * one table on the screen however often it changes, the lines printed before it stay visible, and no line wraps
 * (a wrapped line would make the cursor land in the wrong place on the next frame). A frame is cut to the screen's
 * height for the same reason.
 *
 * <p>Elsewhere (a pipe, a file, a test) nothing is redrawn and no escape sequence is written: callers print one
 * {@link #change line per change} instead. Either way the WHY column stays on one line: the full reasons are what
 * {@code meshwork status} shows.
 */
public final class LiveTable {

    /** Where no terminal says how wide a line may be, WHY is cut to this many characters. */
    public static final int PLAIN_WHY_WIDTH = 60;
    /** WHY keeps at least this much of the terminal's width, however wide the other columns are. */
    private static final int MIN_WHY_WIDTH = 12;
    private static final String ELLIPSIS = "...";
    private static final String CLEAR_TO_END_OF_LINE = "\033[K";
    private static final String CLEAR_BELOW = "\033[J";

    /**
     * A column: its heading and the width it keeps even when its cells are shorter, so a redrawn table does not
     * shift sideways as cells change. A cell longer than that widens the column rather than being cut.
     */
    public record Column(String heading, int width) {}

    private final PrintStream out;
    private final Terminal terminal;
    /** Lines of the frame on the screen now: how far up the next frame starts. */
    private int shown;

    public LiveTable(PrintStream out, Terminal terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** Whether frames are redrawn in place (a terminal) rather than changes printed as lines. */
    public boolean interactive() {
        return terminal.interactive();
    }

    /**
     * {@code rows} under the headings, in aligned columns; the last column is WHY: on one line, cut to what the
     * terminal's width leaves of it, or to {@value #PLAIN_WHY_WIDTH} characters off a terminal.
     */
    public String table(List<Column> columns, List<List<String>> rows) {
        int last = columns.size() - 1;
        int[] widths = new int[last];
        for (int i = 0; i < last; i++) {
            widths[i] = columns.get(i).heading().length();
            widths[i] = Math.max(widths[i], columns.get(i).width());
            for (List<String> row : rows) {
                widths[i] = Math.max(widths[i], oneLine(row.get(i)).length());
            }
        }
        int before = 0;
        for (int width : widths) {
            before += width + 1;
        }
        int whyWidth = terminal.interactive()
                ? Math.max(MIN_WHY_WIDTH, terminal.columns() - before) : PLAIN_WHY_WIDTH;
        StringBuilder text = new StringBuilder();
        List<String> headings = columns.stream().map(Column::heading).toList();
        for (List<String> row : prepend(headings, rows)) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < last; i++) {
                line.append(pad(oneLine(row.get(i)), widths[i])).append(' ');
            }
            line.append(cut(oneLine(row.get(last)), whyWidth));
            text.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        return text.toString();
    }

    /**
     * Terminal only (does nothing elsewhere): replaces the frame on the screen with {@code lines}, each cut to the
     * width, the whole cut to the screen's height less one line.
     */
    public void frame(List<String> lines) {
        if (!terminal.interactive()) {
            return;
        }
        List<String> fitted = lines.subList(0, Math.min(lines.size(), Math.max(1, terminal.rows() - 1)));
        StringBuilder frame = new StringBuilder();
        if (shown > 0) {
            frame.append("\033[").append(shown).append("A\r");
        }
        for (String line : fitted) {
            frame.append(terminal.fit(line)).append(CLEAR_TO_END_OF_LINE).append(System.lineSeparator());
        }
        frame.append(CLEAR_BELOW);
        out.print(frame);
        out.flush();
        shown = fitted.size();
    }

    /**
     * Off a terminal only (does nothing on one): one line for one change of a direction's path, with the time
     * since the watch began, e.g. {@code +12.4s  laptop -> db  direct 10.0.0.3:51820  why}; WHY is cut as in
     * {@link #table}.
     */
    public void change(Duration at, String direction, String path, String why) {
        if (terminal.interactive()) {
            return;
        }
        String time = String.format(Locale.ROOT, "+%.1fs", at.toMillis() / 1000.0);
        String line = String.format(Locale.ROOT, "%7s  %-16s %-28s %s", time, oneLine(direction), oneLine(path),
                cut(oneLine(why), PLAIN_WHY_WIDTH));
        out.println(line.stripTrailing());
        out.flush();
    }

    /** {@code text} on one line: every run of white space, line breaks included, becomes one space. */
    static String oneLine(String text) {
        return text == null ? "" : text.strip().replaceAll("\\s+", " ");
    }

    /** {@code text} cut to {@code width} characters, the cut marked with an ellipsis. */
    static String cut(String text, int width) {
        if (text.length() <= width) {
            return text;
        }
        return text.substring(0, Math.max(0, width - ELLIPSIS.length())) + ELLIPSIS;
    }

    private static String pad(String text, int width) {
        return text.length() >= width ? text : text + " ".repeat(width - text.length());
    }

    private static List<List<String>> prepend(List<String> first, List<List<String>> rest) {
        List<List<String>> all = new ArrayList<>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
