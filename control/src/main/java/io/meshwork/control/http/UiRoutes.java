package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.redirect;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeaders;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web console's files (docs/api.md, "Web console"), served from the control jar under {@code /ui/} on the API's
 * listener, so with its TLS. {@code /ui/} is the page, never cached; every other file is under
 * {@code /ui/v/VERSION/}, where VERSION is a hash of all of them, cached for a year: a new control serves new
 * names, so a browser never mixes files of two releases. Only the files listed in {@code ui/assets.txt} are served.
 *
 * <p>Every answer carries a strict Content-Security-Policy: scripts and styles only from this origin (no inline
 * script or style, no eval), requests only to this origin, no frames, no plugins. The console renders whatever
 * users wrote (hostnames, metadata, reasons) as text, never as markup.
 */
final class UiRoutes {

    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";
    private static final String IMMUTABLE = "public, max-age=31536000, immutable";

    private record Asset(ContentType type, byte[] bytes) {}

    private final Map<String, Asset> assets = new LinkedHashMap<>();
    private final String version;
    private final byte[] index;

    UiRoutes() {
        List<String> names = new String(read("assets.txt"), StandardCharsets.UTF_8).lines().map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String name : names) {
            byte[] bytes = read(name);
            digest.update(name.getBytes(StandardCharsets.UTF_8));
            digest.update(bytes);
            assets.put(name, new Asset(typeOf(name), bytes));
        }
        this.version = HexFormat.of().formatHex(digest.digest()).substring(0, 12);
        this.index = new String(read("index.html"), StandardCharsets.UTF_8).replace("{{version}}", version)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The hash in the files' URLs. */
    String version() {
        return version;
    }

    Route routes() {
        return pathPrefix("ui", () -> respondWithHeaders(securityHeaders(), () -> get(() -> concat(
                pathEnd(() -> redirect(Uri.create("/ui/"), StatusCodes.PERMANENT_REDIRECT)),
                pathSingleSlash(() -> complete(HttpResponse.create()
                        .withEntity(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, index))
                        .addHeader(RawHeader.create("Cache-Control", "no-store")))),
                path(PathMatchers.segment("v").slash(PathMatchers.segment()).slash(PathMatchers.segment()),
                        (requested, name) -> asset(requested, name))))));
    }

    private Route asset(String requested, String name) {
        Asset asset = assets.get(name);
        if (asset == null || !requested.equals(version)) {
            return complete(HttpResponse.create().withStatus(StatusCodes.NOT_FOUND)
                    .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, "no such console file"))
                    .addHeader(RawHeader.create("Cache-Control", "no-store")));
        }
        return complete(HttpResponse.create().withEntity(HttpEntities.create(asset.type(), asset.bytes()))
                .addHeader(RawHeader.create("Cache-Control", IMMUTABLE)));
    }

    private static List<HttpHeader> securityHeaders() {
        return List.of(
                RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                RawHeader.create("X-Content-Type-Options", "nosniff"),
                RawHeader.create("X-Frame-Options", "DENY"),
                RawHeader.create("Referrer-Policy", "no-referrer"),
                RawHeader.create("Cross-Origin-Opener-Policy", "same-origin"));
    }

    private static ContentType typeOf(String name) {
        if (name.endsWith(".js")) {
            return ContentTypes.create(MediaTypes.APPLICATION_JAVASCRIPT, HttpCharsets.UTF_8);
        }
        if (name.endsWith(".css")) {
            return ContentTypes.create(MediaTypes.TEXT_CSS, HttpCharsets.UTF_8);
        }
        if (name.endsWith(".svg")) {
            return ContentTypes.create(MediaTypes.IMAGE_SVG_XML);
        }
        throw new IllegalStateException("ui/assets.txt lists " + name + ", which is no .js, .css or .svg file");
    }

    private static byte[] read(String name) {
        try (InputStream in = UiRoutes.class.getResourceAsStream("/ui/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the console file ui/" + name + " is missing from this build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the console file ui/" + name, e);
        }
    }
}
