package io.meshwork.control.http;

import java.util.List;
import java.util.zip.Deflater;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * One NDJSON line of a peer stream, in parts. A part may be shared by many streams (a segment of a revision's
 * snapshot, a delta's upsert line): it is then deflated once, on the first gzip stream that sends it, and every other
 * gzip stream sends the same compressed bytes ({@link GzipStream}). A part of one stream only is deflated as it goes.
 */
record StreamLine(List<Part> parts) {

    /** A line that is one stream's own. */
    static StreamLine of(ByteString raw) {
        return new StreamLine(List.of(new Part(raw)));
    }

    /** The line's bytes, for a stream without compression. */
    ByteString raw() {
        if (parts.size() == 1) {
            return parts.get(0).raw();
        }
        ByteStringBuilder out = ByteString.createBuilder();
        for (Part part : parts) {
            out.append(part.raw());
        }
        return out.result();
    }

    /**
     * Bytes of a line, and their raw-deflate form (no zlib or gzip framing, ended by a sync flush, so they follow
     * any other such block in one deflate stream) computed once on first demand.
     */
    static final class Part {
        /** Below this, a part goes uncompressed (a stored block): keepalives, one-peer upserts. */
        static final int STORE_BELOW = 512;
        private static final ThreadLocal<Deflater> SHARED_DEFLATER =
                ThreadLocal.withInitial(() -> new Deflater(Deflater.DEFAULT_COMPRESSION, true));
        private static final ThreadLocal<Deflater> OWN_DEFLATER =
                ThreadLocal.withInitial(() -> new Deflater(Deflater.BEST_SPEED, true));

        private final ByteString raw;
        private final boolean shared;
        private volatile ByteString deflated;

        /** A part of one stream: deflated fast, when sent, and not kept. */
        Part(ByteString raw) {
            this(raw, false);
        }

        private Part(ByteString raw, boolean shared) {
            this.raw = raw;
            this.shared = shared;
        }

        /** A part many streams send: deflated harder, once, and kept with it. */
        static Part shared(ByteString raw) {
            return new Part(raw, true);
        }

        ByteString raw() {
            return raw;
        }

        /** These bytes as non-final deflate blocks ending byte-aligned. */
        ByteString deflated() {
            if (!shared) {
                return deflate(raw, OWN_DEFLATER.get());
            }
            ByteString done = deflated;
            if (done == null) {
                synchronized (this) {
                    done = deflated;
                    if (done == null) {
                        done = deflate(raw, SHARED_DEFLATER.get());
                        deflated = done;
                    }
                }
            }
            return done;
        }

        private static ByteString deflate(ByteString raw, Deflater deflater) {
            if (raw.size() < STORE_BELOW) {
                return stored(raw);
            }
            deflater.reset();
            deflater.setInput(raw.toArrayUnsafe());
            byte[] buffer = new byte[Math.max(1024, raw.size() / 2)];
            ByteStringBuilder out = ByteString.createBuilder();
            while (true) {
                int n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
                out.putBytes(buffer, 0, n);
                if (n < buffer.length) {
                    return out.result().compact();
                }
            }
        }

        /** Non-final stored blocks (RFC 1951, 3.2.4) holding {@code raw} as it is. */
        static ByteString stored(ByteString raw) {
            ByteStringBuilder out = ByteString.createBuilder();
            int offset = 0;
            do {
                int length = Math.min(65_535, raw.size() - offset);
                out.putByte((byte) 0);
                out.putByte((byte) length).putByte((byte) (length >>> 8));
                out.putByte((byte) ~length).putByte((byte) (~length >>> 8));
                out.append(raw.slice(offset, offset + length));
                offset += length;
            } while (offset < raw.size());
            return out.result();
        }
    }
}
