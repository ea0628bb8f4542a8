// OAuth 2.0 authorization code with PKCE (RFC 7636, S256) for a public client in the browser: pure functions, no storage.

/** Bytes as base64url without padding (RFC 4648 §5). */
export function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh random string of 32 bytes, base64url (43 characters): a code verifier (RFC 7636 §4.1) or a state. */
export function randomToken(bytes = 32) {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return base64url(buffer);
}

/** The S256 code challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))) (RFC 7636 §4.2). */
export async function challengeOf(verifier) {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) {
    throw new Error('A code verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~');
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The console's redirect URI: its own address, without query or fragment (e.g. https://gcp.example/console/). */
export function redirectUriOf(href) {
  const url = new URL(href);
  url.search = '';
  url.hash = '';
  return url.href;
}

/** The authorization request URL (RFC 6749 §4.1.1 with RFC 7636 §4.3); parameters the endpoint URL already has are kept. */
export function authorizeUrl({ authorizeEndpoint, clientId, redirectUri, scope, state, challenge }) {
  const url = new URL(authorizeEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  if (scope) url.searchParams.set('scope', scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.href;
}

/** The token request's form body (RFC 6749 §4.1.3 with the verifier, RFC 7636 §4.5). */
export function tokenRequest({ code, redirectUri, clientId, verifier }) {
  return new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier });
}

/** What the authority sent back on the redirect: {code, state}, {error, errorDescription, state}, or null when it is not a callback. */
export function callbackOf(href) {
  const params = new URL(href).searchParams;
  if (params.has('error')) {
    return { error: params.get('error'), errorDescription: params.get('error_description') ?? '', state: params.get('state') };
  }
  if (params.has('code')) return { code: params.get('code'), state: params.get('state') };
  return null;
}
