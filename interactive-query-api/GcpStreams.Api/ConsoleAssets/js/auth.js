// Who is signed in. The access token lives in this tab's sessionStorage only (never localStorage, never a cookie): it is gone when
// the tab closes or the person signs out. Embedded mode: the service's development token endpoint with a dev client chosen on the
// sign-in page (client credentials). Authority mode: the authority's sign-in page, authorization code with PKCE.
import { ApiError, problemOf, unreachable } from './api.js';
import { authorizeUrl, callbackOf, challengeOf, randomToken, redirectUriOf, tokenRequest } from './pkce.js';

const SESSION = 'gcp.console.session';
const PENDING = 'gcp.console.pkce';

/** The JSON payload of a JWT (for display and for choosing what to offer; the service checks every request itself). */
export function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(part), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

/** The current session {accessToken, expiresAt, clientId, subject, scopes, channel}, or null (none, or expired). */
export function session() {
  const raw = sessionStorage.getItem(SESSION);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw);
    if (!value.accessToken || Date.now() >= value.expiresAt) {
      sessionStorage.removeItem(SESSION);
      return null;
    }
    return value;
  } catch {
    sessionStorage.removeItem(SESSION);
    return null;
  }
}

export function hasScope(scope) {
  return session()?.scopes.includes(scope) ?? false;
}

export function signOut() {
  sessionStorage.removeItem(SESSION);
}

function store(accessToken, expiresIn, scopeText) {
  const claims = claimsOf(accessToken);
  const scopes = String(claims.scope ?? claims.scp ?? scopeText ?? '').split(' ').filter(Boolean);
  const expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + (Number(expiresIn) || 300) * 1000;
  const value = {
    accessToken,
    expiresAt: Math.min(expiresAt, Date.now() + (Number(expiresIn) || 86400) * 1000),
    clientId: claims.client_id ?? claims.azp ?? claims.sub ?? '',
    subject: claims.preferred_username ?? claims.name ?? claims.sub ?? '',
    scopes,
    channel: claims.gcp_channel ?? null,
  };
  sessionStorage.setItem(SESSION, JSON.stringify(value));
  return value;
}

async function postToken(endpoint, body) {
  let response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw unreachable();
  }
  if (!response.ok) throw await problemOf(response);
  const token = await response.json();
  if (!token.access_token) throw new ApiError(response.status, 'Sign-in failed', 'The token endpoint sent no access token.');
  return store(token.access_token, token.expires_in, token.scope);
}

/** Embedded mode: a dev client's token from the service's own token endpoint (client credentials). */
export function signInWithDevClient(config, clientId, clientSecret) {
  return postToken(config.tokenEndpoint, new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }));
}

/** Authority mode: off to the authority's sign-in page (PKCE: the verifier and the state wait in this tab's sessionStorage). */
export async function startAuthoritySignIn(config, href = location.href) {
  const verifier = randomToken();
  const state = randomToken(16);
  const redirectUri = redirectUriOf(href);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, redirectUri }));
  const url = authorizeUrl({
    authorizeEndpoint: config.authorizeEndpoint, clientId: config.clientId, redirectUri, scope: config.scopes, state, challenge: await challengeOf(verifier),
  });
  location.assign(url);
}

/**
 * Authority mode: completes a sign-in when the page is the authority's redirect (?code=…&state=… or ?error=…): checks the state,
 * exchanges the code with the verifier, removes them from the address bar. Resolves true when it handled a callback.
 */
export async function completeAuthoritySignIn(config, href = location.href) {
  const callback = callbackOf(href);
  if (!callback) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', redirectUriOf(href) + '#/');
  if (!pending || callback.state !== pending.state) {
    throw new ApiError(400, 'Sign-in failed', 'The sign-in answer does not match a sign-in started in this tab (state). Sign in again.');
  }
  if (callback.error) {
    throw new ApiError(400, `Sign-in refused (${callback.error})`, callback.errorDescription);
  }
  await postToken(config.tokenEndpoint, tokenRequest({ code: callback.code, redirectUri: pending.redirectUri, clientId: config.clientId, verifier: pending.verifier }));
  return true;
}
