// The OAuth stand-in's codes and tokens: the token endpoints (PKCE, client authentication, replay), Google's
// userinfo and ID token, and GitHub's /user and /user/emails.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { readBody, sendJson } from './http-kit.mjs';
import { identityLabel } from './oauth-identities.mjs';
import {
  CODE_TTL_MS,
  GITHUB_DOCS,
  GITHUB_TOKEN_ERRORS,
  GOOGLE_ISSUER,
  GOOGLE_TOKEN_TTL_S,
  googleScopeString,
  isObject,
  MAX_BODY_BYTES,
  NO_STORE,
} from './oauth-kit.mjs';

// --- Codes and tokens ----------------------------------------------------------------------------------------

export function createStore() {
  /** @type {Map<string, Grant>} */
  const codes = new Map();
  /** @type {Map<string, AccessToken>} */
  const tokens = new Map();

  /** Forgets what can no longer be used; used codes are kept until they expire so that a replay is recognised. */
  function sweep(now = Date.now()) {
    for (const [code, grant] of codes) if (grant.expiresAt <= now) codes.delete(code);
    for (const [token, entry] of tokens)
      if (entry.expiresAt !== null && entry.expiresAt <= now) tokens.delete(token);
  }

  return {
    /** @param {AuthRequest} request @param {Identity} identity */
    issueCode(request, identity) {
      sweep();
      // Google's codes look like "4/0A…" (the slash must survive URL encoding); GitHub's are 20 hex digits.
      const code =
        request.provider === 'google'
          ? `4/0A${randomBytes(36).toString('base64url')}`
          : randomBytes(10).toString('hex');
      codes.set(code, {
        ...request,
        code,
        identity,
        expiresAt: Date.now() + CODE_TTL_MS,
        used: false,
        tokens: [],
      });
      return code;
    },
    /**
     * Marks the code used whatever happens next: a failed exchange (wrong verifier, wrong redirect_uri) burns
     * it, so a verifier cannot be guessed by retrying. A replayed code revokes the tokens it was exchanged for,
     * as RFC 6749 §4.1.2 recommends.
     * @param {ProviderName} provider @param {string} code
     * @returns {Grant | 'unknown' | 'expired' | 'used'}
     */
    redeem(provider, code) {
      const grant = codes.get(code);
      if (!grant || grant.provider !== provider) return 'unknown';
      if (grant.used) {
        for (const token of grant.tokens) tokens.delete(token);
        return 'used';
      }
      grant.used = true;
      return grant.expiresAt <= Date.now() ? 'expired' : grant;
    },
    /** @param {Grant} grant */
    issueToken(grant) {
      const google = grant.provider === 'google';
      const token = google
        ? `ya29.${randomBytes(48).toString('base64url')}`
        : `gho_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
      tokens.set(token, {
        token,
        provider: grant.provider,
        clientId: grant.clientId,
        identity: grant.identity,
        scopes: grant.scopes,
        expiresAt: google ? Date.now() + GOOGLE_TOKEN_TTL_S * 1000 : null,
      });
      grant.tokens.push(token);
      return token;
    },
    /** @param {ProviderName} provider @param {string} token */
    findToken(provider, token) {
      const entry = tokens.get(token);
      if (!entry || entry.provider !== provider) return null;
      if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) return null;
      return entry;
    },
    /** @param {{ code?: unknown, access_token?: unknown }} which @returns {number} how many were expired */
    expire({ code, access_token }) {
      let count = 0;
      const grant = typeof code === 'string' ? codes.get(code) : undefined;
      if (grant) {
        grant.expiresAt = Date.now() - 1;
        count++;
      }
      const entry = typeof access_token === 'string' ? tokens.get(access_token) : undefined;
      if (entry) {
        entry.expiresAt = Date.now() - 1;
        count++;
      }
      return count;
    },
    clear() {
      codes.clear();
      tokens.clear();
    },
  };
}

// --- Token endpoints -----------------------------------------------------------------------------------------

/**
 * Google: a form body; client authentication by HTTP Basic (what Arctic 3.7's OAuth2Client sends when it has
 * a secret) or client_id/client_secret in the body. Errors are HTTP 400/401 JSON, like Google's.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx
 */
export async function googleToken(req, res, ctx) {
  const fail = (
    /** @type {number} */ status,
    /** @type {string} */ error,
    /** @type {string} */ description,
  ) => sendJson(res, status, { error, error_description: description }, NO_STORE);
  const params = await readParams(req);
  if (!params) return fail(400, 'invalid_request', 'Invalid request body.');
  const client = authenticateClient(req, params, ctx.clients.google);
  if ('refused' in client) return fail(401, 'invalid_client', client.refused);
  if (params.get('grant_type') !== 'authorization_code')
    return fail(400, 'unsupported_grant_type', `Invalid grant_type: ${params.get('grant_type') ?? ''}`);
  const code = params.get('code');
  if (!code) return fail(400, 'invalid_request', 'Missing required parameter: code');

  const grant = ctx.store.redeem('google', code);
  // Google's catch-all for unknown, used, expired or foreign codes is a terse invalid_grant.
  if (typeof grant === 'string' || grant.clientId !== client.clientId)
    return fail(400, 'invalid_grant', 'Bad Request');
  if (params.get('redirect_uri') !== grant.redirectUri)
    return fail(400, 'redirect_uri_mismatch', 'Bad Request');
  const verifier = params.get('code_verifier');
  if (grant.codeChallenge !== null && !verifier) return fail(400, 'invalid_grant', 'Missing code verifier.');
  if (grant.codeChallenge !== null && !pkceMatches(grant, /** @type {string} */ (verifier)))
    return fail(400, 'invalid_grant', 'Invalid code verifier.');

  const accessToken = ctx.store.issueToken(grant);
  /** @type {Record<string, unknown>} */
  const body = {
    access_token: accessToken,
    expires_in: GOOGLE_TOKEN_TTL_S,
    scope: googleScopeString(grant.scopes),
    token_type: 'Bearer',
  };
  if (grant.scopes.includes('openid')) body.id_token = idToken(grant, accessToken);
  ctx.log(`oauth stand-in: google tokens for ${identityLabel(grant.identity)}`);
  sendJson(res, 200, body, NO_STORE);
}

/**
 * GitHub: errors are HTTP 200 with an `error` field, and the reply is JSON only when asked for with
 * `Accept: application/json` (Arctic does ask), form-encoded otherwise. Scopes come back comma-separated.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx
 */
export async function githubToken(req, res, ctx) {
  const reply = (/** @type {Record<string, string>} */ body) => {
    if (String(req.headers.accept ?? '').includes('json')) return sendJson(res, 200, body);
    res
      .writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' })
      .end(new URLSearchParams(body).toString());
  };
  const fail = (
    /** @type {string} */ error,
    /** @type {string} */ description,
    /** @type {string} */ anchor,
  ) => reply({ error, error_description: description, error_uri: GITHUB_TOKEN_ERRORS + anchor });
  const badCode = () =>
    fail('bad_verification_code', 'The code passed is incorrect or expired.', '#bad-verification-code');

  const params = await readParams(req);
  if (!params) return badCode();
  const client = authenticateClient(req, params, ctx.clients.github);
  if ('refused' in client) {
    return fail(
      'incorrect_client_credentials',
      'The client_id and/or client_secret passed are incorrect.',
      '#incorrect-client-credentials',
    );
  }
  const grant = ctx.store.redeem('github', params.get('code') ?? '');
  if (typeof grant === 'string' || grant.clientId !== client.clientId) return badCode();
  // GitHub lets the token request leave redirect_uri out; when present it must match.
  const redirectUri = params.get('redirect_uri');
  if (redirectUri !== null && redirectUri !== grant.redirectUri) {
    return fail(
      'redirect_uri_mismatch',
      'The redirect_uri MUST match the registered callback URL for this application.',
      '#redirect-uri-mismatch2',
    );
  }
  // GitHub's exact answer to a PKCE failure is undocumented; a code that cannot be redeemed is the closest.
  const verifier = params.get('code_verifier');
  if (grant.codeChallenge !== null && !(verifier && pkceMatches(grant, verifier))) return badCode();

  const accessToken = ctx.store.issueToken(grant);
  ctx.log(`oauth stand-in: github token for ${identityLabel(grant.identity)}`);
  reply({ access_token: accessToken, token_type: 'bearer', scope: grant.scopes.join(',') });
}

/**
 * Arctic authenticates with HTTP Basic, unencoded `id:secret` (RFC 6749 wants each half form-encoded first;
 * for ordinary ids and secrets that is the same). The body form is accepted too, as both providers do.
 * @param {http.IncomingMessage} req @param {URLSearchParams} params @param {Record<string, string> | undefined} registry
 * @returns {{ clientId: string } | { refused: string }}
 */
function authenticateClient(req, params, registry) {
  const basic = /^Basic\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  let id = params.get('client_id') ?? '';
  let secret = params.get('client_secret') ?? '';
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { refused: 'Malformed HTTP Basic credentials.' };
    if (id && id !== decoded.slice(0, colon))
      return { refused: 'client_id in the body and in HTTP Basic differ.' };
    id = decoded.slice(0, colon);
    secret = decoded.slice(colon + 1);
  }
  if (!id) return { refused: 'Missing client_id.' };
  if (!secret) return { refused: 'client_secret is missing.' };
  if (registry && Object.keys(registry).length > 0 && registry[id] !== secret)
    return { refused: 'Unauthorized' };
  return { clientId: id };
}

/** @param {Record<string, string> | undefined} registry @param {string} clientId */
export function isKnownClient(registry, clientId) {
  return !registry || Object.keys(registry).length === 0 || Object.hasOwn(registry, clientId);
}

/** @param {Grant} grant @param {string} verifier */
function pkceMatches(grant, verifier) {
  const expected =
    grant.codeChallengeMethod === 'S256'
      ? createHash('sha256').update(verifier).digest('base64url')
      : verifier;
  return expected === grant.codeChallenge;
}

/** Form-encoded like the real token requests, or JSON, which GitHub also takes. Null when unreadable. */
async function readParams(/** @type {http.IncomingMessage} */ req) {
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === null) return null;
  if (!String(req.headers['content-type'] ?? '').includes('json'))
    return new URLSearchParams(raw.toString('utf8'));
  try {
    const body = JSON.parse(raw.toString('utf8'));
    if (!isObject(body)) return null;
    return new URLSearchParams(Object.entries(body).map(([key, value]) => [key, String(value)]));
  } catch {
    return null;
  }
}

// --- Google ID token and userinfo ----------------------------------------------------------------------------

/**
 * Google's ID token, unsigned (`alg: none`): the Worker takes it straight from the token endpoint, as OpenID
 * Connect allows, and reads only its nonce and sub, so a signature and a JWKS would go unread.
 * @param {Grant} grant @param {string} accessToken
 */
function idToken(grant, accessToken) {
  const now = Math.floor(Date.now() / 1000);
  // at_hash: the left half of SHA-256 of the access token, as Google includes it.
  const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
  const encode = (/** @type {unknown} */ part) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const claims = {
    iss: GOOGLE_ISSUER,
    azp: grant.clientId,
    aud: grant.clientId,
    ...googleClaims(/** @type {GoogleIdentity} */ (grant.identity), grant.scopes),
    at_hash: atHash,
    ...(grant.nonce === null ? {} : { nonce: grant.nonce }),
    iat: now,
    exp: now + 3600,
  };
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

/** Google releases the email claims only for the `email` scope and the profile claims for `profile`. */
function googleClaims(/** @type {GoogleIdentity} */ identity, /** @type {string[]} */ scopes) {
  /** @type {Record<string, unknown>} */
  const claims = { sub: identity.sub };
  if (identity.hd) claims.hd = identity.hd;
  if (scopes.includes('email'))
    Object.assign(claims, { email: identity.email, email_verified: identity.email_verified });
  if (scopes.includes('profile')) {
    for (const field of /** @type {const} */ (['name', 'given_name', 'family_name', 'picture'])) {
      if (identity[field] !== undefined) claims[field] = identity[field];
    }
  }
  return claims;
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx */
export function googleUserinfo(req, res, ctx) {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  const entry = token ? ctx.store.findToken('google', token) : null;
  if (!entry) {
    return sendJson(
      res,
      401,
      { error: 'invalid_request', error_description: 'Invalid Credentials' },
      { 'www-authenticate': `Bearer realm="${GOOGLE_ISSUER}/", error="invalid_token"` },
    );
  }
  sendJson(res, 200, googleClaims(/** @type {GoogleIdentity} */ (entry.identity), entry.scopes));
}

// --- GitHub REST API -----------------------------------------------------------------------------------------

/**
 * Like api.github.com: no User-Agent is a 403 before anything else; the token goes as `Bearer` or `token`.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx @param {string} docs
 * @returns {AccessToken | null} null when an error was already sent
 */
function githubAuth(req, res, ctx, docs) {
  if (!req.headers['user-agent']) {
    res
      .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
      .end(
        'Request forbidden by administrative rules. Please make sure your request has a User-Agent header ' +
          '(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).\n',
      );
    return null;
  }
  const header = req.headers.authorization;
  const token = /^(?:Bearer|token)\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  const entry = token ? ctx.store.findToken('github', token) : null;
  if (!entry) {
    const message = header ? 'Bad credentials' : 'Requires authentication';
    sendJson(res, 401, { message, documentation_url: header ? GITHUB_DOCS : docs, status: '401' });
  }
  return entry;
}

/** @param {AccessToken} entry @param {string} accepted */
function githubHeaders(entry, accepted) {
  return {
    'content-type': 'application/json; charset=utf-8',
    'x-oauth-scopes': entry.scopes.join(', '),
    'x-accepted-oauth-scopes': accepted,
    'x-github-media-type': 'github.v3; format=json',
  };
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx */
export function githubUser(req, res, ctx) {
  const entry = githubAuth(req, res, ctx, `${GITHUB_DOCS}/users/users#get-the-authenticated-user`);
  if (!entry) return;
  const identity = /** @type {GitHubIdentity} */ (entry.identity);
  // The profile's `email` is the public one (null when the user keeps all addresses private).
  const publicEmail = identity.emails.find((e) => e.visibility === 'public')?.email ?? null;
  const body = {
    login: identity.login,
    id: identity.id,
    node_id: `U_${Buffer.from(`04:User${identity.id}`).toString('base64url')}`,
    avatar_url: identity.avatar_url ?? `https://avatars.githubusercontent.com/u/${identity.id}?v=4`,
    html_url: `https://github.com/${identity.login}`,
    type: 'User',
    site_admin: false,
    name: identity.name,
    company: null,
    blog: '',
    location: null,
    email: publicEmail,
    bio: null,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
  };
  sendJson(res, 200, body, githubHeaders(entry, ''));
}

/** Without the `user:email` (or `user`) scope GitHub answers 404, not 403, so as not to reveal the resource. */
export function githubEmails(
  /** @type {http.IncomingMessage} */ req,
  /** @type {http.ServerResponse} */ res,
  /** @type {Context} */ ctx,
) {
  const docs = `${GITHUB_DOCS}/users/emails#list-email-addresses-for-the-authenticated-user`;
  const entry = githubAuth(req, res, ctx, docs);
  if (!entry) return;
  const headers = githubHeaders(entry, 'user, read:user, user:email');
  if (!entry.scopes.includes('user:email') && !entry.scopes.includes('user'))
    return sendJson(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' }, headers);
  sendJson(res, 200, /** @type {GitHubIdentity} */ (entry.identity).emails, headers);
}
