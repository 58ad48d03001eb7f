// Drives social sign-in end to end: our /{provider}/login, the fake provider's consent (through its
// control route, with a chosen identity), and our callback with the flow cookie.
import { bindings } from './bindings';
import { api } from './worker';

export type Provider = 'google' | 'github';

export interface GoogleIdentity {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
}

export interface GitHubIdentity {
  id: number;
  login: string;
  name: string;
  emails: { email: string; primary: boolean; verified: boolean; visibility: string | null }[];
}

export function googleIdentity(email: string, overrides: Partial<GoogleIdentity> = {}): GoogleIdentity {
  return { sub: `g-${crypto.randomUUID()}`, email, email_verified: true, name: 'Ann Example', ...overrides };
}

export function githubIdentity(
  email: string | null,
  overrides: Partial<GitHubIdentity> = {},
): GitHubIdentity {
  return {
    id: crypto.getRandomValues(new Uint32Array(1))[0]!,
    login: `octo-${crypto.randomUUID().slice(0, 6)}`,
    name: 'Octo Cat',
    emails: email ? [{ email, primary: true, verified: true, visibility: 'private' }] : [],
    ...overrides,
  };
}

export interface Started {
  location: URL;
  cookie: string;
}

export async function startLogin(provider: Provider, query = '', env?: Env): Promise<Started> {
  const response = await api(`/${provider}/login${query}`, {}, env);
  if (response.status !== 302)
    throw new Error(`login start failed: ${response.status} ${await response.text()}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('edgeauth_oauth='));
  return { location: new URL(response.headers.get('location')!), cookie: cookie!.split(';')[0]! };
}

/** The provider's consent: returns the callback URL (path + query) the provider redirects to. */
export async function consent(
  started: Started,
  identity: GoogleIdentity | GitHubIdentity,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await fetch(`${bindings.TEST_OAUTH_URL}/_standin/authorize`, {
    method: 'POST',
    body: JSON.stringify({ authorization_url: started.location.toString(), identity, ...extra }),
  });
  if (!response.ok) throw new Error(`consent failed: ${response.status} ${await response.text()}`);
  const { redirect } = (await response.json()) as { redirect: string };
  const url = new URL(redirect);
  return `${url.pathname}${url.search}`;
}

export function callback(callbackPath: string, cookie: string | null, env?: Env): Promise<Response> {
  return api(callbackPath, cookie ? { headers: { cookie } } : {}, env);
}

/** The whole happy flow: start, consent as `identity`, come back with the cookie. */
export async function signInWith(provider: Provider, identity: GoogleIdentity | GitHubIdentity, env?: Env) {
  const started = await startLogin(provider, '', env);
  return callback(await consent(started, identity), started.cookie, env);
}

export async function providerFault(mode: string, match: string, extra: Record<string, unknown> = {}) {
  const response = await fetch(`${bindings.TEST_OAUTH_URL}/_standin/fault`, {
    method: 'POST',
    body: JSON.stringify({ mode, match, ...extra }),
  });
  if (!response.ok) throw new Error(`fault failed: ${response.status}`);
}
