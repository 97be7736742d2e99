package io.meshwork.control.http;

import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * A peer stream as one gzip member (RFC 1952) for a client that sent {@code Accept-Encoding: gzip}: a header, each
 * line's parts as deflate blocks that end byte-aligned (so every line reaches the client whole, as soon as it is
 * sent), and, when the stream ends, a final empty block with the CRC-32 and length of everything sent. The stream
 * keeps no compressor of its own (a zlib compressor holds about 256 KiB, and thousands of streams stay open): the
 * parts many streams share are deflated once ({@link StreamLine.Part}), a stream's own parts with a compressor of the
 * thread, reset for each. Only the checksum runs over every byte of every stream.
 */
final class GzipStream {

    /** Magic, deflate, no flags, no time, no extra flags, unknown OS. */
    private static final ByteString HEADER = ByteString.fromArray(new byte[] {
            0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
    /** A final stored block of no bytes. */
    private static final ByteString LAST_BLOCK = ByteString.fromArray(new byte[] {1, 0, 0, (byte) 0xff, (byte) 0xff});

    private final CRC32 crc = new CRC32();
    private long length;

    /** One stream's encoder: send {@link #HEADER} first, then each {@link #line}, then the {@link #trailer}. */
    GzipStream() {}

    /** The member's header: the first bytes of every gzip stream. */
    static ByteString header() {
        return HEADER;
    }

    /** {@code line} as deflate blocks, counted into the trailer's checksum and length. */
    ByteString line(StreamLine line) {
        ByteStringBuilder out = ByteString.createBuilder();
        for (StreamLine.Part part : line.parts()) {
            for (ByteBuffer buffer : part.raw().getByteBuffers()) {
                crc.update(buffer);
            }
            length += part.raw().size();
            out.append(part.deflated());
        }
        return out.result();
    }

    /** The final block and the checksum and length of every line sent: the member's last bytes. */
    ByteString trailer() {
        long sum = crc.getValue();
        return LAST_BLOCK.concat(ByteString.createBuilder()
                .putByte((byte) sum).putByte((byte) (sum >>> 8)).putByte((byte) (sum >>> 16))
                .putByte((byte) (sum >>> 24))
                .putByte((byte) length).putByte((byte) (length >>> 8)).putByte((byte) (length >>> 16))
                .putByte((byte) (length >>> 24))
                .result());
    }

    /**
     * Whether an {@code Accept-Encoding} header's value names gzip (or {@code x-gzip}) with a quality above 0 (RFC
     * 9110, 12.5.3). A wildcard alone is not enough: a client gets gzip only when it asked for it by name.
     */
    static boolean accepted(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String element : acceptEncoding.split(",")) {
            String[] params = element.split(";");
            String coding = params[0].trim().toLowerCase(java.util.Locale.ROOT);
            if (!coding.equals("gzip") && !coding.equals("x-gzip")) {
                continue;
            }
            for (int i = 1; i < params.length; i++) {
                String param = params[i].trim().toLowerCase(java.util.Locale.ROOT);
                if (param.startsWith("q=")) {
                    try {
                        return Double.parseDouble(param.substring(2).trim()) > 0;
                    } catch (NumberFormatException e) {
                        return false;
                    }
                }
            }
            return true;
        }
        return false;
    }
}
