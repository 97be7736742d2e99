package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/**
 * A peer stream in gzip is one gzip member a standard decoder reads back to exactly the lines sent, whichever parts
 * were deflated once for many streams and whichever per stream; each line arrives whole (decodable without what
 * follows it); and only a client that asks for gzip by name gets it.
 */
class GzipStreamTest {

    /** {@code lines} as one stream's encoder sends them: the header, a chunk per line, the trailer. */
    static List<ByteString> encode(List<StreamLine> lines) {
        GzipStream gzip = new GzipStream();
        List<ByteString> chunks = new java.util.ArrayList<>();
        chunks.add(GzipStream.header());
        for (StreamLine line : lines) {
            chunks.add(gzip.line(line));
        }
        chunks.add(gzip.trailer());
        return chunks;
    }

    private static byte[] gunzip(byte[] gzip) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
            return in.readAllBytes();
        }
    }

    private static ByteString json(Random random, int size) {
        StringBuilder text = new StringBuilder("{\"id\":\"");
        while (text.length() < size) {
            text.append(random.nextInt(3) == 0 ? "peer" : Integer.toString(random.nextInt(1 << 20), 36)).append(',');
        }
        return ByteString.fromString(text.append("\"}").toString());
    }

    @Test
    void aStandardDecoderReadsBackEveryLineSharedPartsOwnPartsLargeAndSmall() throws Exception {
        Random random = new Random(3);
        StreamLine.Part shared = StreamLine.Part.shared(json(random, 40_000));
        List<StreamLine> lines = new ArrayList<>();
        ByteString expected = ByteString.emptyByteString();
        for (int i = 0; i < 30; i++) {
            List<StreamLine.Part> parts = new ArrayList<>();
            int count = 1 + random.nextInt(4);
            for (int p = 0; p < count; p++) {
                parts.add(switch (random.nextInt(4)) {
                    case 0 -> shared;
                    case 1 -> new StreamLine.Part(json(random, 10));
                    case 2 -> new StreamLine.Part(json(random, 70_000 + random.nextInt(70_000)));
                    default -> StreamLine.Part.shared(json(random, random.nextInt(2_000)));
                });
            }
            parts.add(new StreamLine.Part(ByteString.fromString("\n")));
            StreamLine line = new StreamLine(parts);
            lines.add(line);
            expected = expected.concat(line.raw());
        }
        List<ByteString> chunks = encode(lines);
        ByteString all = ByteString.emptyByteString();
        for (ByteString chunk : chunks) {
            all = all.concat(chunk);
        }
        assertArrayEquals(expected.toArray(), gunzip(all.toArray()));
        assertTrue(all.size() < expected.size() * 3 / 4, "compressed: " + all.size() + " of " + expected.size());
        assertSame(shared.deflated(), shared.deflated(), "a shared part is deflated once");
    }

    @Test
    void eachLineIsWholeWithoutWhatFollowsIt() throws Exception {
        List<StreamLine> lines = List.of(StreamLine.of(ByteString.fromString("{\"type\":\"snapshot\"}\n")),
                StreamLine.of(ByteString.fromString("{\"type\":\"keepalive\"," + "\"pad\":\"" + "x".repeat(5_000)
                        + "\"}\n")));
        List<ByteString> chunks = encode(lines);
        // The header, one chunk per line, the trailer.
        assertEquals(4, chunks.size());
        ByteString firstTwo = chunks.get(0).concat(chunks.get(1)).concat(chunks.get(2));
        java.util.zip.Inflater inflater = new java.util.zip.Inflater(true);
        inflater.setInput(firstTwo.drop(10).toArray());
        byte[] out = new byte[10_000];
        ByteArrayOutputStream decoded = new ByteArrayOutputStream();
        int n;
        while ((n = inflater.inflate(out)) > 0) {
            decoded.write(out, 0, n);
        }
        assertFalse(inflater.finished(), "the member is not over until the stream ends");
        assertEquals(lines.get(0).raw().utf8String() + lines.get(1).raw().utf8String(),
                decoded.toString(StandardCharsets.UTF_8));
    }

    @Test
    void onlyAClientThatNamesGzipGetsIt() {
        assertTrue(GzipStream.accepted("gzip"));
        assertTrue(GzipStream.accepted("deflate, gzip;q=0.5"));
        assertTrue(GzipStream.accepted("x-gzip"));
        assertTrue(GzipStream.accepted(" GZIP "));
        assertFalse(GzipStream.accepted(null));
        assertFalse(GzipStream.accepted(""));
        assertFalse(GzipStream.accepted("*"));
        assertFalse(GzipStream.accepted("identity"));
        assertFalse(GzipStream.accepted("gzip;q=0"));
        assertFalse(GzipStream.accepted("gzip;q=0.0"));
        assertFalse(GzipStream.accepted("gzip;q=nonsense"));
        assertFalse(GzipStream.accepted("br, deflate"));
    }
}
