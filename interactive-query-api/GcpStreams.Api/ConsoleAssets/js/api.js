// The service's HTTP API, same origin, with the signed-in person's bearer token. Every failure becomes an ApiError holding the
// problem details' title and detail (RFC 9457): that is all the console ever shows of an error.
import { session, signOut } from './auth.js';

export class ApiError extends Error {
  constructor(status, title, detail, problem) {
    super(title);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.problem = problem ?? null;
  }
}

/** The problem of a failed response: its problem details when it has them, else the status line. */
export async function problemOf(response) {
  let body = null;
  try {
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('json')) body = await response.json();
  } catch {
    body = null;
  }
  if (body && (body.title || body.detail)) {
    return new ApiError(response.status, body.title ?? `HTTP ${response.status}`, body.detail ?? '', body);
  }
  if (body && body.error) { // OAuth2 token endpoint errors (RFC 6749 §5.2)
    return new ApiError(response.status, `Sign-in refused (${body.error})`, body.error_description ?? '', body);
  }
  return new ApiError(response.status, `HTTP ${response.status}`, response.statusText || 'The service answered without details.', body);
}

/** A network failure (no answer at all), without any of the browser's internals. */
export function unreachable() {
  return new ApiError(0, 'The service did not answer', 'Check the connection and try again.');
}

/** Calls the API; resolves with the JSON body, rejects with an ApiError. */
export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const current = session();
  const init = {
    method,
    headers: { Accept: 'application/json', ...headers },
    cache: 'no-store',
    credentials: 'omit',
    signal,
  };
  if (current) init.headers.Authorization = `Bearer ${current.accessToken}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw unreachable();
  }
  if (response.status === 401 && current) {
    const problem = await problemOf(response);
    signOut();
    problem.detail = `${problem.detail} Sign in again.`.trim();
    throw problem;
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const enc = encodeURIComponent;
