// A small typed client for edgeauth: Hono RPC over the API's route types (`client.api`), plus the token
// flow: sign in, refresh the access token once on a 401 and retry, sign out. Browsers keep the refresh
// token in the httpOnly cookie ('cookie' transport); Node and native apps keep it themselves ('body').
import { hc } from 'hono/client';
import type { AppType } from './app';

export interface TokenStore {
  get(): string | null | Promise<string | null>;
  set(token: string | null): void | Promise<void>;
}

export interface EdgeauthClientOptions {
  baseUrl: string;
  /** Default: 'cookie' in a browser, 'body' elsewhere. */
  transport?: 'cookie' | 'body';
  /** Where a 'body' client keeps the refresh token between runs (default: memory only). */
  refreshTokenStore?: TokenStore;
  fetch?: Fetch;
  /**
   * Called when the session is over (the refresh answered 401): send the user to the sign-in page. Any
   * other failure (429, 5xx, the network) keeps the session: the next call tries again.
   */
  onSessionEnd?: () => void;
}

/** RequestInit as browsers know it (the Workers types used to check this file lack `credentials`). */
type BrowserRequestInit = RequestInit & { credentials?: 'include' | 'same-origin' | 'omit' };
type Fetch = (input: RequestInfo | URL, init?: BrowserRequestInit) => Promise<Response>;

interface Tokens {
  token: string;
  refresh_token?: string;
}

function memoryStore(): TokenStore {
  let value: string | null = null;
  return {
    get: () => value,
    set: (token) => {
      value = token;
    },
  };
}

export function createEdgeauthClient(options: EdgeauthClientOptions) {
  const transport = options.transport ?? ('document' in globalThis ? 'cookie' : 'body');
  const store = options.refreshTokenStore ?? memoryStore();
  const send: Fetch = options.fetch ?? ((input, init) => fetch(input, init as RequestInit));
  const base = options.baseUrl.replace(/\/$/, '');
  const credentials = transport === 'cookie' ? 'include' : 'same-origin';
  let accessToken: string | null = null;
  let refreshing: Promise<boolean> | null = null;

  const json = (body: unknown): BrowserRequestInit => ({
    method: 'POST',
    credentials,
    headers: {
      'content-type': 'application/json',
      ...(transport === 'body' ? { 'x-refresh-token-transport': 'body' } : {}),
    },
    body: JSON.stringify(body),
  });

  async function adopt(response: Response) {
    const body = (await response.json()) as Tokens & Record<string, unknown>;
    accessToken = body.token;
    if (transport === 'body' && body.refresh_token) await store.set(body.refresh_token);
    return body;
  }

  /**
   * True when refreshed, false when the session is over (only a 401 says so: the token is then dropped).
   * A transient failure (429, 5xx) throws an EdgeauthError and keeps the refresh token for a retry.
   */
  async function doRefresh(): Promise<boolean> {
    const stored = transport === 'body' ? await store.get() : null;
    if (transport === 'body' && !stored) return false;
    const response = await send(
      `${base}/refresh-token`,
      json(transport === 'body' ? { refresh_token: stored } : {}),
    );
    if (response.status === 401) {
      accessToken = null;
      await store.set(null);
      options.onSessionEnd?.();
      return false;
    }
    if (!response.ok) throw new EdgeauthError(response.status, await response.json().catch(() => null));
    await adopt(response);
    return true;
  }

  /** One refresh at a time: parallel 401s share it (the server would hand them the same token anyway). */
  function refresh(): Promise<boolean> {
    refreshing ??= doRefresh().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  const authorizedFetch = async (input: RequestInfo | URL, init: BrowserRequestInit = {}) => {
    const attempt = () => {
      const headers = new Headers(init.headers);
      if (accessToken) headers.set('authorization', `Bearer ${accessToken}`);
      return send(input, { ...init, credentials, headers });
    };
    const response = await attempt();
    if (response.status !== 401) return response;
    // A refresh that failed for a passing reason leaves this call's 401 as its answer, session intact.
    const refreshed = await refresh().catch((error: unknown) => {
      if (error instanceof EdgeauthError) return false;
      throw error;
    });
    return refreshed ? attempt() : response;
  };

  return {
    /** Typed calls: `await client.api.me.$get()`, `client.api.billing.plans.$get()`, ... */
    api: hc<AppType>(base, { fetch: authorizedFetch }),

    get accessToken() {
      return accessToken;
    },

    async login(email: string, password: string) {
      const response = await send(`${base}/login`, json({ email, password }));
      if (!response.ok) throw new EdgeauthError(response.status, await response.json());
      return adopt(response);
    },

    async loginWithCode(email: string, code: string) {
      const response = await send(`${base}/login/code`, json({ email, code }));
      if (!response.ok) throw new EdgeauthError(response.status, await response.json());
      return adopt(response);
    },

    /**
     * Resumes a session (a page reload, an app start) from the cookie or the stored token: true when
     * signed in, false when signed out; throws EdgeauthError when the API could not answer (try later).
     */
    resume: () => refresh(),

    async logout() {
      if (accessToken) await authorizedFetch(`${base}/logout`, { method: 'POST' });
      accessToken = null;
      await store.set(null);
    },
  };
}

export type EdgeauthClient = ReturnType<typeof createEdgeauthClient>;

/** A problem document from the API, as an Error. */
export class EdgeauthError extends Error {
  constructor(
    readonly status: number,
    readonly problem: unknown,
  ) {
    super(
      typeof problem === 'object' && problem && 'detail' in problem
        ? String(problem.detail)
        : `HTTP ${status}`,
    );
  }
}
