// The public control API, as any client uses it (docs/api.md). The console's session is an HttpOnly cookie the
// browser sends by itself; every request that changes something also carries the session's CSRF token.

let csrfToken = null;
let onSessionEnded = () => {};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** Called when the API answers 401: the session ended. */
export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch('/api/v1' + path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, (data && data.error) || response.statusText || 'HTTP ' + response.status, data);
    if (response.status === 401 && !path.startsWith('/ui/session')) onSessionEnded(error);
    throw error;
  }
  return data;
}

/** Starts a session from a login link's code or a pasted token; answers the session. */
export async function logIn(credentials) {
  const session = await api('POST', '/ui/session', credentials);
  csrfToken = session.csrfToken;
  return session;
}

/** The session the browser's cookie holds, or null. */
export async function currentSession() {
  try {
    const session = await api('GET', '/ui/session');
    csrfToken = session.csrfToken;
    return session;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function logOut() {
  try {
    await api('DELETE', '/ui/session');
  } finally {
    csrfToken = null;
  }
}

/** A path segment, encoded. */
export function seg(value) {
  return encodeURIComponent(value);
}

/** Every device of an organization matching {@code query}, fetched a page of {@code pageSize} at a time, up to {@code max}. */
export async function devicesUpTo(organizationId, query, max, pageSize = 1000) {
  const devices = [];
  let total = 0;
  for (let offset = 0; offset < max; offset += pageSize) {
    const params = new URLSearchParams(query);
    params.set('offset', String(offset));
    params.set('limit', String(Math.min(pageSize, max - offset)));
    const page = await api('GET', '/organizations/' + seg(organizationId) + '/devices?' + params);
    total = page.total;
    devices.push(...page.devices);
    if (devices.length >= page.total || page.devices.length === 0) break;
  }
  return {devices, total};
}
