// The edgeauth client: typed calls over the API's OpenAPI document (`client.api`, openapi-fetch) plus the
// token flow: sign in, refresh the access token once on a 401 and retry, sign out. Browsers keep the
// refresh token in the httpOnly cookie ('cookie' transport); Node and native apps keep it ('body').
import {
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser';
import createClient, { type Client } from 'openapi-fetch';
import { EdgeauthError } from './errors.js';
import type { components, paths } from './openapi.js';

export type SessionGrant = components['schemas']['SessionGrant'];
export type Tokens = components['schemas']['Tokens'];
/** A sign-in to an account with TOTP on: complete it with completeMfa(). No session yet. */
export type SecondFactorRequired = components['schemas']['SecondFactorRequired'];
export type SignInResult = SessionGrant | SecondFactorRequired;
export type SecondFactorProof = { code: string } | { recoveryCode: string };
export type Passkey = components['schemas']['Passkey'];
export type Reauthenticated = components['schemas']['Reauthenticated'];

/** Where a 'body' client keeps the refresh token: the platform's secure storage, a file, memory. */
export interface TokenStore {
  get(): string | null | Promise<string | null>;
  set(token: string | null): void | Promise<void>;
}

export interface EdgeauthClientOptions {
  /** The API's origin, e.g. 'https://auth.example.com'. */
  baseUrl: string;
  /** Default: 'cookie' in a browser, 'body' elsewhere. */
  transport?: 'cookie' | 'body';
  /** Where a 'body' client keeps the refresh token between runs (default: memory only). */
  refreshTokenStore?: TokenStore;
  /** Sends every request (default: the global fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * Called once when an API call finds the session over (its refresh answered 401): send the user to the
   * sign-in page. Not called by resume() (its `false` says "signed out") or logout(). Any other failure
   * (429, 5xx, the network) keeps the session: the next call tries again.
   */
  onSessionEnd?: () => void;
}

export interface EdgeauthClient {
  /** Typed calls with the access token: `await client.api.GET('/me')`, `client.api.GET('/billing/plans')`. */
  readonly api: Client<paths>;
  /** The current access token (memory only), or null when signed out. */
  readonly accessToken: string | null;
  /**
   * Signs in with a password; throws EdgeauthError with the API's problem when refused. For an account
   * with TOTP on the answer is `{ mfa_required: true, mfa_token }`: ask for a code, then completeMfa().
   */
  login(email: string, password: string): Promise<SignInResult>;
  /** Signs in with a code from POST /request/login-code; the same answers as login(). */
  loginWithCode(email: string, code: string): Promise<SignInResult>;
  /** The second step: the mfa_token from login() and a TOTP code or a recovery code. */
  completeMfa(mfaToken: string, proof: SecondFactorProof): Promise<SessionGrant>;
  /**
   * Browsers: makes a passkey for the signed-in user (the browser asks for a fingerprint, face or PIN) and
   * registers it. Needs a verified email and a recent sign-in (else EdgeauthError 403
   * REAUTHENTICATION_REQUIRED: reauthenticate first). The browser's own refusal throws its WebAuthnError.
   */
  registerPasskey(name?: string): Promise<Passkey>;
  /** Browsers: usernameless sign-in with any passkey the browser holds for this site; no second factor. */
  loginWithPasskey(): Promise<SessionGrant>;
  /** Browsers: marks this session freshly authenticated with one of the user's passkeys. */
  reauthenticateWithPasskey(): Promise<Reauthenticated>;
  /**
   * Resumes a session (a page reload, an app start) from the cookie or the stored token: true when
   * signed in, false when signed out; throws EdgeauthError when the API could not answer (try later).
   */
  resume(): Promise<boolean>;
  /** Ends the session at the API (resuming it first after a reload, when there is one) and forgets the tokens. */
  logout(): Promise<void>;
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

/** The data of a 2xx answer, or an EdgeauthError carrying the problem document of any other. */
function dataOf<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new EdgeauthError(result.response.status, result.error ?? null);
  return result.data;
}

export function createEdgeauthClient(options: EdgeauthClientOptions): EdgeauthClient {
  const transport = options.transport ?? ('document' in globalThis ? 'cookie' : 'body');
  const store = options.refreshTokenStore ?? memoryStore();
  const send = options.fetch ?? ((request: Request) => fetch(request));
  // A browser sends and keeps the refresh cookie across origins only with credentials 'include'. The
  // body transport sets nothing: it needs no cookie, and some runtimes (workerd) refuse the field.
  const requestInit = transport === 'cookie' ? { credentials: 'include' as const } : {};
  let accessToken: string | null = null;
  let refreshing: Promise<boolean> | null = null;
  /** onSessionEnd was called for the session that ended; the next sign-in or refresh resets it. */
  let ended = false;

  /** Sign-in and refresh calls: no access token, no retry; a 'body' client asks for the token in JSON. */
  const session = createClient<paths>({
    baseUrl: options.baseUrl,
    fetch: send,
    headers: transport === 'body' ? { 'x-refresh-token-transport': 'body' } : {},
    ...requestInit,
  });

  /** A sign-in's answer: tokens are kept; a second-factor challenge is handed back as it is. */
  async function adoptSignIn(result: SignInResult): Promise<SignInResult> {
    return 'mfa_required' in result ? result : adopt(result);
  }

  async function adopt<T extends Tokens>(tokens: T): Promise<T> {
    accessToken = tokens.token;
    ended = false;
    if (transport === 'body' && tokens.refresh_token) await store.set(tokens.refresh_token);
    return tokens;
  }

  /**
   * True when refreshed, false when the session is over (only a 401 says so: the token is then dropped).
   * A transient failure (429, 5xx) throws an EdgeauthError and keeps the refresh token for a retry.
   */
  async function doRefresh(): Promise<boolean> {
    const stored = transport === 'body' ? await store.get() : null;
    if (transport === 'body' && !stored) return false;
    const result = await session.POST('/refresh-token', stored ? { body: { refresh_token: stored } } : {});
    if (result.response.status === 401) {
      accessToken = null;
      await store.set(null);
      return false;
    }
    await adopt(dataOf(result));
    return true;
  }

  /** One refresh at a time: parallel 401s share it (the server would hand them the same token anyway). */
  function refresh(): Promise<boolean> {
    refreshing ??= doRefresh().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  function withAccessToken(request: Request): Request {
    if (!accessToken) return request;
    const headers = new Headers(request.headers);
    headers.set('authorization', `Bearer ${accessToken}`);
    return new Request(request, { headers });
  }

  async function authorizedFetch(request: Request): Promise<Response> {
    const retry = request.clone(); // sending consumes the body; the retry needs its own
    const response = await send(withAccessToken(request));
    if (response.status !== 401) return response;
    // A refresh that failed for a passing reason leaves this call's 401 as its answer, session intact.
    const refreshed = await refresh().catch((error: unknown) => {
      if (error instanceof EdgeauthError) return false;
      throw error;
    });
    if (refreshed) return send(withAccessToken(retry));
    if (response.status === 401 && !accessToken && !ended) {
      ended = true; // one notice per session, however many calls were waiting on the refresh
      options.onSessionEnd?.();
    }
    return response;
  }

  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: authorizedFetch, ...requestInit });

  return {
    api,

    get accessToken() {
      return accessToken;
    },

    async login(email, password) {
      return adoptSignIn(dataOf(await session.POST('/login', { body: { email, password } })));
    },

    async loginWithCode(email, code) {
      return adoptSignIn(dataOf(await session.POST('/login/code', { body: { email, code } })));
    },

    async completeMfa(mfaToken, proof) {
      const body =
        'code' in proof
          ? { mfa_token: mfaToken, code: proof.code }
          : { mfa_token: mfaToken, recovery_code: proof.recoveryCode };
      return adopt(dataOf(await session.POST('/login/mfa', { body })));
    },

    async registerPasskey(name) {
      const options = dataOf(await api.POST('/passkeys/register/options'));
      // The API answers WebAuthn's JSON form; its transports are plain strings in the OpenAPI types.
      const optionsJSON = options as PublicKeyCredentialCreationOptionsJSON;
      const response = await startRegistration({ optionsJSON });
      return dataOf(await api.POST('/passkeys/register', { body: { response, ...(name ? { name } : {}) } }));
    },

    async loginWithPasskey() {
      const options = dataOf(await session.POST('/login/passkey/options'));
      const response = await startAuthentication({ optionsJSON: options });
      return adopt(dataOf(await session.POST('/login/passkey', { body: { response } })));
    },

    async reauthenticateWithPasskey() {
      const options = dataOf(await api.POST('/reauthenticate/options'));
      const optionsJSON = options as PublicKeyCredentialRequestOptionsJSON;
      const response = await startAuthentication({ optionsJSON });
      return dataOf(await api.POST('/reauthenticate', { body: { response } }));
    },

    resume: () => refresh(),

    async logout() {
      // After a reload only the cookie (or the stored token) knows the session: resume it to end it.
      if (!accessToken) await refresh().catch(() => false);
      if (accessToken) await api.POST('/logout');
      accessToken = null;
      await store.set(null);
    },
  };
}
