// The engine's API (docs/api/engine-openapi.yaml) from the portal: same origin, the session
// cookie (HttpOnly: this script never sees it), and on every call that changes something the
// header X-Hostdev-CSRF: 1 the engine requires of cookie-authenticated calls.
//
// api(method, path, body) answers the JSON; with {etag: true} it answers {json, etag} (the
// answer's ETag header, null without one); {headers} adds request headers (If-Match).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body, {headers = {}, etag = false} = {}) {
  const opts = {method, credentials: 'same-origin', headers: {Accept: 'application/json', ...headers}};
  if (method !== 'GET') opts.headers['X-Hostdev-CSRF'] = '1';
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, 'unreachable', `the engine does not answer (${e.message})`);
  }
  const text = await r.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  if (!r.ok) {
    const err = json && json.error;
    if (r.status === 401 && path !== '/v1/session')
      window.dispatchEvent(new CustomEvent('hd-unauthorized', {detail: err ? err.message : ''}));
    throw new ApiError(r.status, err ? err.code : 'failed', err ? err.message : `${r.status} ${r.statusText}`);
  }
  return etag ? {json, etag: r.headers.get('ETag')} : json;
}

export const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) s.set(k, v);
  const t = s.toString();
  return t ? `?${t}` : '';
};
