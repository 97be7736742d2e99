package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.extractUri;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.mapRequest;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;

import com.typesafe.config.Config;
import io.meshwork.control.http.views.Acknowledged;
import io.meshwork.control.http.views.ConsoleSessionView;
import io.meshwork.control.http.views.LoginLink;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.Query;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.Cookie;
import org.apache.pekko.http.javadsl.model.headers.HttpCookie;
import org.apache.pekko.http.javadsl.model.headers.HttpCookiePair;
import org.apache.pekko.http.javadsl.model.headers.SameSite;
import org.apache.pekko.http.javadsl.model.headers.SetCookie;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * How the web console logs in (docs/api.md, "Web console"): one-time login links
 * ({@code POST /api/v1/ui/login-links}, admin or organization token), the session they or a pasted token start
 * ({@code POST /api/v1/ui/session}), what the console asks of its session ({@code GET}) and logout
 * ({@code DELETE}). {@link #authenticated} lets the session's cookie stand for its token on every other API route:
 * so the console uses exactly the API anyone else does, with the same checks.
 */
final class SessionRoutes {

    /** The session cookie; sent only to the API. */
    static final String COOKIE = "meshwork_session";
    /** The header that carries a session's CSRF token on every request that is not a GET or HEAD. */
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final String COOKIE_PATH = "/api/v1/";
    private static final String SESSION_PATH = "/api/v1/ui/session";

    /** The lifetimes and bounds of links and sessions ({@code meshwork.control.ui}). */
    record Settings(Duration loginLinkTtl, int maxLoginLinks, Duration sessionIdle, Duration sessionMaxAge,
            int maxSessions) {

        static Settings from(Config config) {
            Config ui = config.getConfig("meshwork.control.ui");
            return new Settings(ui.getDuration("login-link-ttl"), ui.getInt("max-login-links"),
                    ui.getDuration("session-idle"), ui.getDuration("session-max-age"), ui.getInt("max-sessions"));
        }
    }

    /** {@code POST /api/v1/ui/session}: exactly one of a token and a login link's code. */
    record Login(String token, String code) {}

    private final Authorization auth;
    private final JsonSupport json;
    private final LoginLinks links;
    private final ConsoleSessions sessions;
    private final Settings settings;

    SessionRoutes(Authorization auth, JsonSupport json, Settings settings) {
        this.auth = auth;
        this.json = json;
        this.settings = settings;
        this.links = new LoginLinks(settings.loginLinkTtl(), settings.maxLoginLinks());
        this.sessions = new ConsoleSessions(settings.sessionIdle(), settings.sessionMaxAge(), settings.maxSessions());
    }

    /** The routes under {@code /api/v1}. */
    Route routes() {
        return pathPrefix("ui", () -> concat(
                path("login-links", () -> post(() -> auth.bearer(token -> principal(token,
                        principal -> extractUri(uri -> createLink(uri, principal)))))),
                path("session", () -> concat(
                        // A JSON body only: a cross-site page can send text/plain without asking, not JSON, so
                        // it cannot log a browser in with its own link (login CSRF).
                        post(() -> extractRequest(request -> {
                            if (!request.entity().getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
                                throw new ApiException(415, "log in with a JSON body (Content-Type: application/json)");
                            }
                            return json.body(Login.class, this::login);
                        })),
                        get(() -> withSession((secret, session) -> json.ok(view(session.principal(),
                                session.csrfToken(), session.expiresAtMillis())))),
                        delete(() -> withSession((secret, session) -> {
                            sessions.end(secret);
                            return respondWithHeader(SetCookie.create(cookie("").withMaxAge(0)),
                                    () -> json.ok(new Acknowledged(true)));
                        }))))));
    }

    /**
     * Runs {@code inner} with a request that carries no {@code Authorization} header but a live session's cookie as
     * if it carried the session's token, once a request that changes something showed the session's CSRF token
     * (else 403). A request with its own {@code Authorization} header, without a session cookie, or with an ended
     * session's is left as it is (the routes then answer it as they would: 401 without credentials). The login
     * itself needs no CSRF token: it starts a new session.
     */
    Route authenticated(Supplier<Route> inner) {
        return extractRequest(request -> {
            if (request.getHeader("Authorization").isPresent()
                    || request.method() == HttpMethods.POST && request.getUri().path().equals(SESSION_PATH)) {
                return inner.get();
            }
            Optional<ConsoleSessions.Session> session = sessionCookie(request)
                    .flatMap(secret -> sessions.find(secret, System.currentTimeMillis()));
            if (session.isEmpty()) {
                return inner.get();
            }
            if (!isSafe(request) && !sameSecret(request.getHeader(CSRF_HEADER).map(h -> h.value()).orElse(""),
                    session.get().csrfToken())) {
                throw new ApiException(403, "this request needs the console session's CSRF token (" + CSRF_HEADER
                        + " header)");
            }
            String bearer = session.get().principal().bearer();
            return mapRequest(original -> original.addHeader(
                    org.apache.pekko.http.javadsl.model.headers.Authorization.oauth2(bearer)), inner);
        });
    }

    private static boolean isSafe(HttpRequest request) {
        return request.method() == HttpMethods.GET || request.method() == HttpMethods.HEAD;
    }

    private static boolean sameSecret(String given, String expected) {
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8));
    }

    private static Optional<String> sessionCookie(HttpRequest request) {
        return request.getHeader(Cookie.class).flatMap(header -> {
            for (HttpCookiePair pair : header.getCookies()) {
                if (pair.name().equals(COOKIE)) {
                    return Optional.of(pair.value());
                }
            }
            return Optional.empty();
        });
    }

    private Route withSession(BiFunction<String, ConsoleSessions.Session, Route> inner) {
        return extractRequest(request -> {
            String secret = sessionCookie(request)
                    .orElseThrow(() -> new ApiException(401, "no console session; log in"));
            ConsoleSessions.Session session = sessions.find(secret, System.currentTimeMillis())
                    .orElseThrow(() -> new ApiException(401, "the console session has ended; log in again"));
            return inner.apply(secret, session);
        });
    }

    /** Runs {@code inner} with whom {@code token} stands for: the admin or an organization (its token checked). */
    private Route principal(String token, Function<ConsolePrincipal, Route> inner) {
        if (auth.isAdmin(token)) {
            return inner.apply(new ConsolePrincipal(token, true, null));
        }
        TokenKind.Parsed organization = TokenKind.ORGANIZATION.parse(token).orElseThrow(() -> new ApiException(
                TokenKind.parseAny(token).isPresent() ? 403 : 401,
                "the console takes the admin token or an organization API token"));
        return auth.withOrganization(token, organization.organizationId(),
                summary -> inner.apply(new ConsolePrincipal(token, false, organization.organizationId())));
    }

    private Route createLink(Uri requested, ConsolePrincipal principal) {
        LoginLinks.Issued issued = links.issue(principal, System.currentTimeMillis());
        // The code travels in the fragment: browsers never send it to a server, nor in a Referer.
        String url = requested.path("/ui/").query(Query.EMPTY).fragment("login=" + issued.code()).toString();
        return json.created(new LoginLink(url, issued.expiresAtMillis()));
    }

    private Route login(Login login) {
        boolean hasToken = login.token() != null && !login.token().isBlank();
        boolean hasCode = login.code() != null && !login.code().isBlank();
        if (hasToken == hasCode) {
            throw new ApiException(400, "give either token or code");
        }
        if (hasCode) {
            ConsolePrincipal principal = links.redeem(login.code().strip(), System.currentTimeMillis())
                    .orElseThrow(() -> new ApiException(401, "this login link is unknown, used or expired"));
            return started(principal);
        }
        return principal(login.token().strip(), this::started);
    }

    private Route started(ConsolePrincipal principal) {
        ConsoleSessions.Started started = sessions.start(principal, System.currentTimeMillis());
        return respondWithHeader(SetCookie.create(cookie(started.secret())
                        .withMaxAge(settings.sessionMaxAge().toSeconds())),
                () -> json.ok(view(principal, started.csrfToken(), started.expiresAtMillis())));
    }

    private static ConsoleSessionView view(ConsolePrincipal principal, String csrfToken, long expiresAtMillis) {
        return new ConsoleSessionView(csrfToken, expiresAtMillis, principal.admin(), principal.organizationId());
    }

    private static HttpCookie cookie(String value) {
        return HttpCookie.create(COOKIE, value).withPath(COOKIE_PATH).withHttpOnly(true).withSecure(true)
                .withSameSite(SameSite.Strict);
    }
}
