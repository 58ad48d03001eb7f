// Local stand-in for the Google and GitHub OAuth endpoints the Worker uses (authorize consent pages, token
// exchange with PKCE, Google userinfo and ID token, GitHub /user and /user/emails) on one HTTP server, in memory.
// Routes under /_standin/ are ours: programmatic authorization for tests, fault injection, expiry, health.
import { createHash, generateKeyPair, randomBytes, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import { promisify } from 'node:util';
import { createFaults, delay, listen, readBody, sendFavicon, sendJson } from './http-kit.mjs';

const MAX_BODY_BYTES = 64 * 1024;
const FAULT_MODES = ['error', 'slow', 'down', 'malformed'];
/** Google's codes live about this long; GitHub's ten minutes, but one short lifetime keeps tests simple. */
const CODE_TTL_MS = 60_000;
/** Google answers `expires_in: 3599`; GitHub OAuth app tokens never expire on their own. */
const GOOGLE_TOKEN_TTL_S = 3599;
const GOOGLE_ISSUER = 'https://accounts.google.com';
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

const PATHS = {
  GOOGLE_AUTH_URL: '/google/o/oauth2/v2/auth',
  GOOGLE_TOKEN_URL: '/google/token',
  GOOGLE_USERINFO_URL: '/google/userinfo',
  GITHUB_AUTHORIZE_URL: '/github/login/oauth/authorize',
  GITHUB_TOKEN_URL: '/github/login/oauth/access_token',
  GITHUB_USER_API: '/github/user',
  GITHUB_EMAILS: '/github/user/emails',
};
const GOOGLE_JWKS_PATH = '/google/oauth2/v3/certs';

/** Google accepts the short scope names and the URL forms, and reports the URL forms in its token response. */
const GOOGLE_SCOPES = {
  openid: 'openid',
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};
const DEFAULT_SCOPES = { google: 'openid email profile', github: 'read:user user:email' };
const GITHUB_DOCS = 'https://docs.github.com/rest';
const GITHUB_TOKEN_ERRORS =
  '/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/';

/**
 * @typedef {'google' | 'github'} ProviderName
 * @typedef {{ sub: string, email: string, email_verified: boolean, name: string, given_name?: string,
 *   family_name?: string, picture?: string, hd?: string }} GoogleIdentity
 * @typedef {{ email: string, primary: boolean, verified: boolean, visibility: 'public' | 'private' | null }} GitHubEmail
 * @typedef {{ id: number, login: string, name: string | null, emails: GitHubEmail[], avatar_url?: string }} GitHubIdentity
 * @typedef {GoogleIdentity | GitHubIdentity} Identity
 * @typedef {{ provider: ProviderName, clientId: string, redirectUri: string, state: string | null, scopes: string[],
 *   codeChallenge: string | null, codeChallengeMethod: string | null, nonce: string | null }} AuthRequest
 * @typedef {AuthRequest & { code: string, identity: Identity, expiresAt: number, used: boolean,
 *   tokens: string[] }} Grant
 * @typedef {{ token: string, provider: ProviderName, clientId: string, identity: Identity, scopes: string[],
 *   expiresAt: number | null }} AccessToken
 * @typedef {{ status: number, error: string, description: string }} Problem
 * @typedef {{ google?: Record<string, string>, github?: Record<string, string> }} ClientRegistry
 *   client_id → client_secret per provider; a provider without entries accepts any id with a non-empty secret.
 * @typedef {{ google: GoogleIdentity[], github: GitHubIdentity[] }} IdentityLists
 * @typedef {{ store: ReturnType<typeof createStore>, faults: ReturnType<typeof createFaults>,
 *   clients: ClientRegistry, identities: IdentityLists, signer: Awaited<ReturnType<typeof createSigner>>,
 *   timers: Set<NodeJS.Timeout>, log: (msg: string) => void }} Context
 */

/** Thrown for input a caller can fix; the handlers turn it into a 400. */
class InputError extends Error {}

/**
 * Starts the stand-in. `urls` holds the Worker variables pointing at it; `clients` restricts which client
 * credentials the token endpoints accept; `identities` replaces the test accounts offered on the consent pages.
 * @param {{ port?: number, host?: string, log?: (msg: string) => void, clients?: ClientRegistry,
 *   identities?: Partial<IdentityLists> }} [options]
 */
export async function startOAuthProviders({
  port = 0,
  host = '127.0.0.1',
  log = () => {},
  clients = {},
  identities = {},
} = {}) {
  /** @type {Context} */
  const ctx = {
    store: createStore(),
    faults: createFaults(FAULT_MODES),
    clients,
    identities: {
      google: (identities.google ?? DEFAULT_IDENTITIES.google).map(googleIdentity),
      github: (identities.github ?? DEFAULT_IDENTITIES.github).map(githubIdentity),
    },
    signer: await createSigner(),
    timers: new Set(),
    log,
  };
  const server = http.createServer((req, res) => {
    handleRequest(req, res, ctx).catch((err) => {
      if (res.destroyed) return; // the client went away mid-request
      log(`oauth stand-in: internal error: ${err?.stack ?? err}`);
      sendJson(res, 500, { error: 'internal stand-in error' });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const address = await listen(server, port, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  log(`oauth providers stand-in listening on ${url}`);
  return {
    url,
    port: address.port,
    urls: /** @type {Record<keyof typeof PATHS, string>} */ (
      Object.fromEntries(Object.entries(PATHS).map(([name, path]) => [name, url + path]))
    ),
    /** Not one of the Worker's variables: Google's JWKS, for verifying the RS256 ID tokens this server signs. */
    googleJwksUrl: url + GOOGLE_JWKS_PATH,
    faults: ctx.faults,
    close() {
      for (const timer of ctx.timers) clearTimeout(timer);
      ctx.timers.clear();
      return new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
    },
  };
}

/** @type {Record<string, (req: http.IncomingMessage, res: http.ServerResponse, url: URL, ctx: Context) => unknown>} */
const ROUTES = {
  [`GET ${PATHS.GOOGLE_AUTH_URL}`]: (_req, res, url, ctx) => consentPage(res, 'google', url, ctx),
  [`POST ${PATHS.GOOGLE_AUTH_URL}`]: (req, res, url, ctx) => consentDecision(req, res, 'google', url, ctx),
  [`POST ${PATHS.GOOGLE_TOKEN_URL}`]: (req, res, _url, ctx) => googleToken(req, res, ctx),
  [`GET ${PATHS.GOOGLE_USERINFO_URL}`]: (req, res, _url, ctx) => googleUserinfo(req, res, ctx),
  [`GET ${GOOGLE_JWKS_PATH}`]: (_req, res, _url, ctx) => sendJson(res, 200, { keys: [ctx.signer.jwk] }),
  [`GET ${PATHS.GITHUB_AUTHORIZE_URL}`]: (_req, res, url, ctx) => consentPage(res, 'github', url, ctx),
  [`POST ${PATHS.GITHUB_AUTHORIZE_URL}`]: (req, res, url, ctx) =>
    consentDecision(req, res, 'github', url, ctx),
  [`POST ${PATHS.GITHUB_TOKEN_URL}`]: (req, res, _url, ctx) => githubToken(req, res, ctx),
  [`GET ${PATHS.GITHUB_USER_API}`]: (req, res, _url, ctx) => githubUser(req, res, ctx),
  [`GET ${PATHS.GITHUB_EMAILS}`]: (req, res, _url, ctx) => githubEmails(req, res, ctx),
};

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx */
async function handleRequest(req, res, ctx) {
  const url = parseUrl(req.url);
  if (url.pathname.startsWith('/_standin/')) return handleAdmin(req, res, url.pathname, ctx);
  if (req.method === 'GET' && url.pathname === '/favicon.ico') return sendFavicon(res);
  const route = ROUTES[`${req.method} ${url.pathname}`];
  if (!route) return sendJson(res, 404, { error: 'not found' });
  if (await applyFault(req, res, url.pathname, ctx)) return;
  await route(req, res, url, ctx);
}

// --- Faults ------------------------------------------------------------------------------------------------

/**
 * http-kit's faults match their key exactly; here `match` is a path prefix ending at a segment boundary
 * ('/google' covers '/google/token', '/github/user' covers '/github/user/emails'), so the key handed over is
 * the match itself whenever the path falls under it.
 * @param {ReturnType<typeof createFaults>} faults @param {string} path
 */
function faultKey(faults, path) {
  const { match } = faults.state;
  if (match === null) return path;
  const under = path === match || path.startsWith(match.endsWith('/') ? match : `${match}/`);
  return under ? match : path;
}

/**
 * down drops the connection, error answers 500, malformed answers 200 with a body that is not JSON, slow
 * delays and then serves the request normally.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} path @param {Context} ctx
 * @returns {Promise<boolean>} whether the fault already answered (or dropped) the request
 */
async function applyFault(req, res, path, { faults, timers }) {
  const fault = faults.take(faultKey(faults, path));
  switch (fault?.mode) {
    case 'down':
      req.socket.destroy();
      return true;
    case 'error':
      sendJson(
        res,
        500,
        path.startsWith('/google/')
          ? { error: 'internal_failure', error_description: 'Backend Error (injected fault)' }
          : { message: 'Server Error (injected fault)' },
      );
      return true;
    case 'malformed':
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json</html>');
      return true;
    case 'slow':
      await delay(fault.delay_ms, timers);
      return res.destroyed;
    default:
      return false;
  }
}

// --- Codes and tokens ----------------------------------------------------------------------------------------

function createStore() {
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

// --- Authorization requests and consent pages --------------------------------------------------------------

/**
 * Validates an authorization request. Every failure is shown to the user instead of being redirected, as
 * Google does for most of them: a redirect_uri is not trusted until the request is known to be sound.
 * @param {ProviderName} provider @param {URLSearchParams} params @param {ClientRegistry} clients
 * @returns {{ request: AuthRequest } | { problem: Problem }}
 */
function parseAuthorizationRequest(provider, params, clients) {
  const fail = (
    /** @type {number} */ status,
    /** @type {string} */ error,
    /** @type {string} */ description,
  ) => ({
    problem: { status, error, description },
  });
  const clientId = params.get('client_id') ?? '';
  if (!clientId) return fail(400, 'invalid_request', 'Missing required parameter: client_id');
  if (!isKnownClient(clients[provider], clientId))
    return fail(401, 'invalid_client', 'The OAuth client was not found.');
  const redirectUri = params.get('redirect_uri') ?? '';
  // GitHub falls back on the app's registered callback URL; this stand-in has none, so it needs one.
  if (!redirectUri) return fail(400, 'invalid_request', 'Missing required parameter: redirect_uri');
  if (!isHttpUrl(redirectUri))
    return fail(400, 'invalid_request', `Invalid parameter value for redirect_uri: ${redirectUri}`);
  // GitHub ignores response_type (Arctic sends it anyway); Google requires it.
  if (provider === 'google' && params.get('response_type') !== 'code')
    return fail(
      400,
      'unsupported_response_type',
      `Unsupported response_type: ${params.get('response_type')}`,
    );

  const scopes = parseScopes(provider, params.get('scope'));
  if ('problem' in scopes) return scopes;
  const pkce = parsePkce(provider, params);
  if ('problem' in pkce) return pkce;
  return {
    request: {
      provider,
      clientId,
      redirectUri,
      state: params.get('state'),
      scopes: scopes.scopes,
      ...pkce,
      nonce: params.get('nonce'),
    },
  };
}

/**
 * @param {ProviderName} provider @param {string | null} raw
 * @returns {{ scopes: string[] } | { problem: Problem }}
 */
function parseScopes(provider, raw) {
  // GitHub accepts commas as well as spaces between scopes.
  const requested = (raw ?? '').split(provider === 'github' ? /[\s,]+/ : /\s+/).filter(Boolean);
  if (provider === 'github') return { scopes: [...new Set(requested)] };
  if (requested.length === 0)
    return {
      problem: { status: 400, error: 'invalid_request', description: 'Missing required parameter: scope' },
    };
  const short = requested.map(
    (scope) => Object.entries(GOOGLE_SCOPES).find(([name, long]) => scope === name || scope === long)?.[0],
  );
  const invalid = requested.filter((_, i) => short[i] === undefined);
  if (invalid.length > 0) {
    const description = `Some requested scopes were invalid. {invalid=[${invalid.join(', ')}]}`;
    return { problem: { status: 400, error: 'invalid_scope', description } };
  }
  return { scopes: [...new Set(/** @type {string[]} */ (short))] };
}

/**
 * Google takes S256 or plain (the default when only a challenge is sent, per RFC 7636); GitHub only S256.
 * @param {ProviderName} provider @param {URLSearchParams} params
 * @returns {{ codeChallenge: string | null, codeChallengeMethod: string | null } | { problem: Problem }}
 */
function parsePkce(provider, params) {
  const codeChallenge = params.get('code_challenge');
  const method = params.get('code_challenge_method') ?? (codeChallenge === null ? null : 'plain');
  const allowed = provider === 'google' ? ['S256', 'plain'] : ['S256'];
  const problem = (/** @type {string} */ description) => ({
    problem: { status: 400, error: 'invalid_request', description },
  });
  if (codeChallenge === null) {
    return method === null ? { codeChallenge, codeChallengeMethod: null } : problem('Missing code_challenge');
  }
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(codeChallenge)) return problem('Invalid code_challenge');
  if (!allowed.includes(/** @type {string} */ (method)))
    return problem(`Invalid code_challenge_method: ${method}`);
  return { codeChallenge, codeChallengeMethod: method };
}

/**
 * @param {http.ServerResponse} res @param {ProviderName} provider @param {URL} url @param {Context} ctx
 * @param {string} [message] shown above the form after an invalid submission
 */
function consentPage(res, provider, url, ctx, message) {
  const parsed = parseAuthorizationRequest(provider, url.searchParams, ctx.clients);
  if ('problem' in parsed)
    return sendHtml(res, parsed.problem.status, renderProblem(provider, parsed.problem));
  sendHtml(res, message ? 400 : 200, renderConsent(parsed.request, ctx.identities[provider], message));
}

/**
 * The form posts back to the page's own URL, so the authorization request arrives again in the query string.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {ProviderName} provider
 * @param {URL} url @param {Context} ctx
 */
async function consentDecision(req, res, provider, url, ctx) {
  const parsed = parseAuthorizationRequest(provider, url.searchParams, ctx.clients);
  if ('problem' in parsed)
    return sendHtml(res, parsed.problem.status, renderProblem(provider, parsed.problem));
  const form = new URLSearchParams((await readBody(req, MAX_BODY_BYTES))?.toString('utf8') ?? '');
  if (form.get('decision') === 'deny') return redirect(res, deniedRedirect(parsed.request));
  let identity;
  try {
    identity = identityFromForm(provider, form, ctx.identities[provider]);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return consentPage(res, provider, url, ctx, err.message);
  }
  redirect(res, approve(parsed.request, identity, ctx).redirect);
}

/** @param {AuthRequest} request @param {Identity} identity @param {Context} ctx */
function approve(request, identity, ctx) {
  const code = ctx.store.issueCode(request, identity);
  ctx.log(`oauth stand-in: ${request.provider} code for ${identityLabel(identity)} → ${request.redirectUri}`);
  /** @type {Record<string, string>} */
  const params = { code };
  if (request.state !== null) params.state = request.state;
  // Google also reports the granted scopes and which signed-in account answered; callers must ignore extras.
  if (request.provider === 'google') {
    Object.assign(params, { scope: googleScopeString(request.scopes), authuser: '0', prompt: 'consent' });
  }
  return { code, redirect: withParams(request.redirectUri, params) };
}

/** @param {AuthRequest} request */
function deniedRedirect(request) {
  /** @type {Record<string, string>} */
  const params = { error: 'access_denied' };
  if (request.provider === 'github') {
    params.error_description = 'The user has denied your application access.';
    params.error_uri =
      'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied';
  }
  if (request.state !== null) params.state = request.state;
  return withParams(request.redirectUri, params);
}

// --- Identities ----------------------------------------------------------------------------------------------

const DEFAULT_IDENTITIES = {
  google: [
    { sub: '100000000000000000001', email: 'alice@example.com', email_verified: true, name: 'Alice Example' },
    { sub: '100000000000000000002', email: 'bob@example.com', email_verified: false, name: 'Bob Unverified' },
    { sub: '100000000000000000003', email: 'carol@example.com', email_verified: true, name: 'Carol Example' },
  ],
  github: [
    {
      id: 1000001,
      login: 'octo-alice',
      name: 'Alice Octo',
      emails: [{ email: 'alice@example.com', primary: true, verified: true, visibility: 'public' }],
    },
    {
      id: 1000002,
      login: 'octo-bob',
      name: 'Bob Octo',
      emails: [
        { email: 'bob@example.com', primary: true, verified: false, visibility: 'private' },
        { email: 'bob.work@example.com', primary: false, verified: true, visibility: null },
      ],
    },
    {
      id: 1000003,
      login: 'octo-carol',
      name: null,
      emails: [{ email: 'carol@example.com', primary: true, verified: false, visibility: 'private' }],
    },
  ],
};

/**
 * Fills what a test left out: the stable id is derived from the email, so signing in again with the same
 * typed address yields the same account, as with the real providers.
 * @param {any} input @returns {GoogleIdentity}
 */
function googleIdentity(input) {
  if (!isObject(input)) throw new InputError('identity must be an object');
  const email = requireString(input.email, 'identity.email');
  if (!EMAIL.test(email)) throw new InputError('identity.email must be an email address');
  const name = optionalString(input.name, 'identity.name') ?? email.split('@')[0];
  const [first, ...rest] = name.split(' ');
  /** @type {GoogleIdentity} */
  const identity = {
    sub: optionalString(input.sub, 'identity.sub') ?? `1${derivedDigits(`google:${email}`, 20)}`,
    email,
    email_verified: optionalBoolean(input.email_verified, 'identity.email_verified') ?? true,
    name,
    given_name: optionalString(input.given_name, 'identity.given_name') ?? first,
  };
  const family = optionalString(input.family_name, 'identity.family_name') ?? (rest.join(' ') || undefined);
  if (family) identity.family_name = family;
  for (const field of /** @type {const} */ (['picture', 'hd'])) {
    const value = optionalString(input[field], `identity.${field}`);
    if (value) identity[field] = value;
  }
  return identity;
}

/** @param {any} input @returns {GitHubIdentity} */
function githubIdentity(input) {
  if (!isObject(input)) throw new InputError('identity must be an object');
  if (!Array.isArray(input.emails)) throw new InputError('identity.emails must be an array');
  const emails = input.emails.map(githubEmail);
  if (emails.filter((e) => e.primary).length > 1)
    throw new InputError('identity.emails has several primaries');
  const fallbackLogin = (emails[0]?.email.split('@')[0] ?? '').replace(/[^A-Za-z0-9-]/g, '-');
  const login = optionalString(input.login, 'identity.login') ?? fallbackLogin;
  if (!/^[A-Za-z0-9-]{1,39}$/.test(login)) throw new InputError('identity.login must be a GitHub login');
  if (input.id !== undefined && !(Number.isSafeInteger(input.id) && input.id > 0))
    throw new InputError('identity.id must be a positive integer');
  /** @type {GitHubIdentity} */
  const identity = {
    id: input.id ?? 10_000_000 + Number(derivedDigits(`github:${login.toLowerCase()}`, 7)),
    login,
    name: input.name === null ? null : (optionalString(input.name, 'identity.name') ?? null),
    emails,
  };
  const avatar = optionalString(input.avatar_url, 'identity.avatar_url');
  if (avatar) identity.avatar_url = avatar;
  return identity;
}

/** @param {any} input @returns {GitHubEmail} */
function githubEmail(input) {
  if (!isObject(input)) throw new InputError('identity.emails[] must be objects');
  const email = requireString(input.email, 'identity.emails[].email');
  const visibility = input.visibility ?? null;
  if (![null, 'public', 'private'].includes(visibility))
    throw new InputError("identity.emails[].visibility must be 'public', 'private' or null");
  return {
    email,
    primary: optionalBoolean(input.primary, 'identity.emails[].primary') ?? false,
    verified: optionalBoolean(input.verified, 'identity.emails[].verified') ?? false,
    visibility,
  };
}

/**
 * The consent form: one of the listed accounts, or a custom one typed in.
 * @param {ProviderName} provider @param {URLSearchParams} form @param {Identity[]} listed @returns {Identity}
 */
function identityFromForm(provider, form, listed) {
  const choice = form.get('identity') ?? '0';
  if (choice !== 'custom') {
    const identity = listed[Number(choice)];
    if (!identity) throw new InputError('Choose one of the test accounts.');
    return identity;
  }
  const email = (form.get('email') ?? '').trim();
  if (!EMAIL.test(email)) throw new InputError('Type an email address for the custom identity.');
  const name = (form.get('name') ?? '').trim() || undefined;
  if (provider === 'google') {
    return googleIdentity({ email, name, email_verified: form.get('email_verified') !== 'no' });
  }
  const login = (form.get('login') ?? '').trim() || undefined;
  const status = form.get('email_status') ?? 'verified';
  const visibility = status === 'verified' && form.has('public_email') ? 'public' : 'private';
  /** @type {GitHubEmail[]} */
  const emails = [{ email, primary: true, verified: status === 'verified', visibility }];
  // "Primary unverified" still has a verified address, to tell it apart from "no verified email at all".
  if (status === 'unverified') {
    const [local, domain] = email.split('@');
    emails.push({ email: `${local}+verified@${domain}`, primary: false, verified: true, visibility: null });
  }
  return githubIdentity({ login, name, emails });
}

/** @param {Identity} identity */
function identityLabel(identity) {
  if ('sub' in identity)
    return `${identity.name} <${identity.email}>${identity.email_verified ? '' : ' (unverified)'}`;
  const primary = identity.emails.find((e) => e.primary);
  const verified = identity.emails.some((e) => e.verified);
  const status = !primary
    ? 'no email'
    : primary.verified
      ? ''
      : verified
        ? ' (primary unverified)'
        : ' (no verified email)';
  return `@${identity.login}${identity.name ? ` ${identity.name}` : ''} <${primary?.email ?? ''}>${status}`;
}

// --- Token endpoints -----------------------------------------------------------------------------------------

/**
 * Google: a form body; client authentication by HTTP Basic (what Arctic 3.7's OAuth2Client sends when it has
 * a secret) or client_id/client_secret in the body. Errors are HTTP 400/401 JSON, like Google's.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx
 */
async function googleToken(req, res, ctx) {
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
  if (grant.scopes.includes('openid')) body.id_token = idToken(grant, accessToken, ctx.signer);
  ctx.log(`oauth stand-in: google tokens for ${identityLabel(grant.identity)}`);
  sendJson(res, 200, body, NO_STORE);
}

/**
 * GitHub: errors are HTTP 200 with an `error` field, and the reply is JSON only when asked for with
 * `Accept: application/json` (Arctic does ask), form-encoded otherwise. Scopes come back comma-separated.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Context} ctx
 */
async function githubToken(req, res, ctx) {
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
function isKnownClient(registry, clientId) {
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

/** An RS256 key made per start, published at GOOGLE_JWKS_PATH, so that a verifying Worker can check signatures. */
async function createSigner() {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  return {
    jwk: { ...publicKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid },
    /** @param {Record<string, unknown>} payload */
    sign(payload) {
      const encode = (/** @type {unknown} */ part) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const input = `${encode({ alg: 'RS256', kid, typ: 'JWT' })}.${encode(payload)}`;
      return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    },
  };
}

/** @param {Grant} grant @param {string} accessToken @param {Awaited<ReturnType<typeof createSigner>>} signer */
function idToken(grant, accessToken, signer) {
  const now = Math.floor(Date.now() / 1000);
  // at_hash: the left half of SHA-256 of the access token, as Google includes it.
  const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
  return signer.sign({
    iss: GOOGLE_ISSUER,
    azp: grant.clientId,
    aud: grant.clientId,
    ...googleClaims(/** @type {GoogleIdentity} */ (grant.identity), grant.scopes),
    at_hash: atHash,
    ...(grant.nonce === null ? {} : { nonce: grant.nonce }),
    iat: now,
    exp: now + 3600,
  });
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
function googleUserinfo(req, res, ctx) {
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
function githubUser(req, res, ctx) {
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
function githubEmails(
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

// --- /_standin/ control routes -------------------------------------------------------------------------------

/**
 * health; fault (GET state, POST set); authorize (a code without the HTML page); expire (a code or an access
 * token, to test expiry without waiting); identities (the listed test accounts); reset (codes, tokens, fault).
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} path @param {Context} ctx
 */
async function handleAdmin(req, res, path, ctx) {
  const route = `${req.method} ${path}`;
  if (route === 'GET /_standin/health') return sendJson(res, 200, { ok: true });
  if (route === 'GET /_standin/fault') return sendJson(res, 200, ctx.faults.state);
  if (route === 'GET /_standin/identities') return sendJson(res, 200, ctx.identities);
  if (route === 'POST /_standin/reset') {
    ctx.store.clear();
    ctx.faults.reset();
    return sendJson(res, 200, { ok: true });
  }
  if (!['POST /_standin/fault', 'POST /_standin/authorize', 'POST /_standin/expire'].includes(route))
    return sendJson(res, 404, { error: 'not found' });

  let body;
  try {
    body = JSON.parse((await readBody(req, MAX_BODY_BYTES))?.toString('utf8') || '{}');
    if (!isObject(body)) throw new InputError('the body must be a JSON object');
    if (route === 'POST /_standin/fault') {
      if (body.mode !== undefined && !['none', ...FAULT_MODES].includes(body.mode))
        throw new InputError(`mode must be one of none, ${FAULT_MODES.join(', ')}`);
      return sendJson(res, 200, ctx.faults.set(body));
    }
    if (route === 'POST /_standin/expire') return sendJson(res, 200, { expired: ctx.store.expire(body) });
    return authorizeForTest(res, body, ctx);
  } catch (err) {
    if (!(err instanceof InputError || err instanceof SyntaxError)) throw err; // SyntaxError: unparsable JSON
    return sendJson(res, 400, { error: /** @type {Error} */ (err).message });
  }
}

/**
 * `{provider, client_id, redirect_uri, state?, scope?, code_challenge?, code_challenge_method?, nonce?}` or
 * `{authorization_url}` (the Worker's redirect, as is), plus `identity` (default: the first listed account)
 * and `decision: 'deny'` → `{code, redirect}`, or `{redirect}` carrying error=access_denied.
 * @param {http.ServerResponse} res @param {Record<string, any>} body @param {Context} ctx
 */
function authorizeForTest(res, body, ctx) {
  const { provider, params } = authorizationInput(body);
  const parsed = parseAuthorizationRequest(provider, params, ctx.clients);
  if ('problem' in parsed) {
    const { status, error, description } = parsed.problem;
    return sendJson(res, status, { error, error_description: description });
  }
  if (body.decision === 'deny') return sendJson(res, 200, { redirect: deniedRedirect(parsed.request) });
  const identity =
    body.identity === undefined
      ? ctx.identities[provider][0]
      : provider === 'google'
        ? googleIdentity(body.identity)
        : githubIdentity(body.identity);
  sendJson(res, 200, approve(parsed.request, identity, ctx));
}

/** @param {Record<string, any>} body @returns {{ provider: ProviderName, params: URLSearchParams }} */
function authorizationInput(body) {
  if (typeof body.authorization_url === 'string') {
    let url;
    try {
      url = new URL(body.authorization_url);
    } catch {
      throw new InputError('authorization_url is not a URL');
    }
    const provider = { [PATHS.GOOGLE_AUTH_URL]: 'google', [PATHS.GITHUB_AUTHORIZE_URL]: 'github' }[
      url.pathname
    ];
    if (!provider)
      throw new InputError(
        `authorization_url is neither ${PATHS.GOOGLE_AUTH_URL} nor ${PATHS.GITHUB_AUTHORIZE_URL}`,
      );
    if (body.provider !== undefined && body.provider !== provider)
      throw new InputError('provider does not match authorization_url');
    return { provider: /** @type {ProviderName} */ (provider), params: url.searchParams };
  }
  if (body.provider !== 'google' && body.provider !== 'github')
    throw new InputError("provider must be 'google' or 'github' (or give authorization_url)");
  /** @type {ProviderName} */
  const provider = body.provider;
  const params = new URLSearchParams({ response_type: 'code', scope: DEFAULT_SCOPES[provider] });
  for (const key of [
    'response_type',
    'client_id',
    'redirect_uri',
    'state',
    'scope',
    'nonce',
    'code_challenge',
  ]) {
    if (body[key] !== undefined) params.set(key, requireString(body[key], key));
  }
  if (body.code_challenge !== undefined)
    params.set(
      'code_challenge_method',
      optionalString(body.code_challenge_method, 'code_challenge_method') ?? 'S256',
    );
  return { provider, params };
}

// --- HTML ----------------------------------------------------------------------------------------------------

const PROVIDER_TITLES = { google: 'Google', github: 'GitHub' };

/** @param {AuthRequest} request @param {Identity[]} listed @param {string} [message] */
function renderConsent(request, listed, message) {
  const title = PROVIDER_TITLES[request.provider];
  const accounts = listed
    .map(
      (identity, i) =>
        `<label><input type="radio" name="identity" value="${i}"${i === 0 ? ' checked' : ''}> ${escapeHtml(identityLabel(identity))}</label>`,
    )
    .join('\n');
  const status =
    request.provider === 'google'
      ? `<label>Email <select name="email_verified"><option value="yes">verified</option><option value="no">not verified</option></select></label>`
      : `<label>Login <input name="login" autocomplete="off" placeholder="derived from the email"></label>
<label>Emails <select name="email_status"><option value="verified">primary email verified</option>
<option value="unverified">primary unverified (a verified secondary)</option>
<option value="none">no verified email at all</option></select></label>
<label><input type="checkbox" name="public_email" checked> public email on the profile</label>`;
  const facts = [
    ['Application', request.clientId],
    ['Redirects to', request.redirectUri],
    ['Scopes', request.scopes.join(' ') || '(none)'],
    ['PKCE', request.codeChallengeMethod ?? 'none'],
  ]
    .map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('');
  const body = `<h1>Sign in with ${title} <small>(local stand-in)</small></h1>
${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<dl>${facts}</dl>
<form method="post">
<fieldset><legend>Test accounts</legend>
${accounts}
<label><input type="radio" name="identity" value="custom"> Custom identity:</label>
<div class="custom">
<label>Email <input name="email" type="email" autocomplete="off"></label>
<label>Name <input name="name" autocomplete="off" placeholder="derived from the email"></label>
${status}
</div>
</fieldset>
<p><button name="decision" value="allow" type="submit">Allow</button>
<button name="decision" value="deny" type="submit">Deny</button></p>
</form>`;
  return layout(`Sign in with ${title}`, body);
}

/** @param {ProviderName} provider @param {Problem} problem */
function renderProblem(provider, problem) {
  const body = `<h1>${PROVIDER_TITLES[provider]} <small>(local stand-in)</small></h1>
<p class="error">Error ${problem.status}: ${escapeHtml(problem.error)}</p>
<p>${escapeHtml(problem.description)}</p>`;
  return layout('Authorization error', body);
}

/** @param {string} title @param {string} body */
function layout(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:640px;padding:0 1.5rem;color:#1f2328}
h1{font-size:1.3rem}small{color:#59636e;font-weight:normal}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600;color:#59636e}dd{margin:0;word-break:break-all}
fieldset{border:1px solid #d1d9e0;border-radius:6px;padding:.8rem 1rem}label{display:block;margin:.35rem 0}
.custom{margin-left:1.6rem}input[name=email],input[name=name],input[name=login]{font:inherit;width:18rem}
button{font:inherit;padding:.4rem 1rem;border:1px solid #d1d9e0;border-radius:6px;background:#f6f8fa;cursor:pointer}
button[value=allow]{background:#1f883d;color:#fff}.error{color:#d1242f;font-weight:600}
</style></head>
<body>
${body}
</body></html>`;
}

/**
 * No form-action restriction: the form's answer is a redirect to the application, which browsers would
 * otherwise block.
 * @param {http.ServerResponse} res @param {number} status @param {string} html
 */
function sendHtml(res, status, html) {
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    })
    .end(html);
}

/** @param {string} text */
function escapeHtml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );
}

// --- Small helpers -------------------------------------------------------------------------------------------

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** @param {http.ServerResponse} res @param {string} location */
function redirect(res, location) {
  res.writeHead(302, { location, 'cache-control': 'no-store' }).end();
}

/** Keeps any query the redirect_uri already has. @param {string} base @param {Record<string, string>} params */
function withParams(base, params) {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** @param {string[]} scopes */
function googleScopeString(scopes) {
  return scopes.map((scope) => GOOGLE_SCOPES[/** @type {keyof typeof GOOGLE_SCOPES} */ (scope)]).join(' ');
}

/** A stable decimal string of `length` digits derived from `seed`. */
function derivedDigits(/** @type {string} */ seed, /** @type {number} */ length) {
  const hash = BigInt(`0x${createHash('sha256').update(seed).digest('hex')}`);
  return (hash % 10n ** BigInt(length)).toString().padStart(length, '0');
}

/** @param {string} value */
function isHttpUrl(value) {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** @param {unknown} value @returns {value is Record<string, any>} */
function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** @param {unknown} value @param {string} name @returns {string} */
function requireString(value, name) {
  if (typeof value !== 'string' || value === '') throw new InputError(`${name} must be a non-empty string`);
  return value;
}

/** @param {unknown} value @param {string} name @returns {string | undefined} */
function optionalString(value, name) {
  return value === undefined || value === null ? undefined : requireString(value, name);
}

/** @param {unknown} value @param {string} name @returns {boolean | undefined} */
function optionalBoolean(value, name) {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InputError(`${name} must be a boolean`);
  return value;
}

/** @param {string | undefined} url */
function parseUrl(url) {
  try {
    return new URL(url ?? '/', 'http://stand-in');
  } catch {
    return new URL('http://stand-in/invalid');
  }
}
