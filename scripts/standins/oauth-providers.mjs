// Local stand-in for the Google and GitHub OAuth endpoints the Worker uses (authorize consent pages, token
// exchange with PKCE, Google userinfo and ID token, GitHub /user and /user/emails) on one HTTP server, in memory.
// Routes under /_standin/ are ours: programmatic authorization for tests, fault injection, expiry, health.
// This file routes and injects faults; oauth-consent.mjs serves the pages, oauth-tokens.mjs the token and API
// endpoints, oauth-identities.mjs the test accounts.
import http from 'node:http';
import { createFaults, delay, listen, readBody, sendFavicon, sendJson } from './http-kit.mjs';
import {
  approve,
  consentDecision,
  consentPage,
  deniedRedirect,
  parseAuthorizationRequest,
} from './oauth-consent.mjs';
import { DEFAULT_IDENTITIES, githubIdentity, googleIdentity } from './oauth-identities.mjs';
import {
  DEFAULT_SCOPES,
  FAULT_MODES,
  InputError,
  isObject,
  MAX_BODY_BYTES,
  optionalString,
  PATHS,
  parseUrl,
  requireString,
} from './oauth-kit.mjs';
import {
  createStore,
  githubEmails,
  githubToken,
  githubUser,
  googleToken,
  googleUserinfo,
} from './oauth-tokens.mjs';

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
