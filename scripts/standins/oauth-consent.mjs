// The OAuth stand-in's authorization requests and the consent pages a browser sees.
import http from 'node:http';
import { readBody } from './http-kit.mjs';
import { identityFromForm, identityLabel } from './oauth-identities.mjs';
import {
  GOOGLE_SCOPES,
  googleScopeString,
  InputError,
  isHttpUrl,
  MAX_BODY_BYTES,
  redirect,
  withParams,
} from './oauth-kit.mjs';
import { isKnownClient } from './oauth-tokens.mjs';

// --- Authorization requests and consent pages --------------------------------------------------------------

/**
 * Validates an authorization request. Every failure is shown to the user instead of being redirected, as
 * Google does for most of them: a redirect_uri is not trusted until the request is known to be sound.
 * @param {ProviderName} provider @param {URLSearchParams} params @param {ClientRegistry} clients
 * @returns {{ request: AuthRequest } | { problem: Problem }}
 */
export function parseAuthorizationRequest(provider, params, clients) {
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
export function consentPage(res, provider, url, ctx, message) {
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
export async function consentDecision(req, res, provider, url, ctx) {
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
export function approve(request, identity, ctx) {
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
export function deniedRedirect(request) {
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
