// What the OAuth stand-in's parts share: its paths and limits, the shapes it keeps, input checks and small
// HTTP helpers.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { createFaults } from './http-kit.mjs';
import { createStore } from './oauth-tokens.mjs';

export const MAX_BODY_BYTES = 64 * 1024;
export const FAULT_MODES = ['error', 'slow', 'down', 'malformed'];
/** Google's codes live about this long; GitHub's ten minutes, but one short lifetime keeps tests simple. */
export const CODE_TTL_MS = 60_000;
/** Google answers `expires_in: 3599`; GitHub OAuth app tokens never expire on their own. */
export const GOOGLE_TOKEN_TTL_S = 3599;
export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export const PATHS = {
  GOOGLE_AUTH_URL: '/google/o/oauth2/v2/auth',
  GOOGLE_TOKEN_URL: '/google/token',
  GOOGLE_USERINFO_URL: '/google/userinfo',
  GITHUB_AUTHORIZE_URL: '/github/login/oauth/authorize',
  GITHUB_TOKEN_URL: '/github/login/oauth/access_token',
  GITHUB_USER_API: '/github/user',
  GITHUB_EMAILS: '/github/user/emails',
};

/** Google accepts the short scope names and the URL forms, and reports the URL forms in its token response. */
export const GOOGLE_SCOPES = {
  openid: 'openid',
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};
export const DEFAULT_SCOPES = { google: 'openid email profile', github: 'read:user user:email' };
export const GITHUB_DOCS = 'https://docs.github.com/rest';
export const GITHUB_TOKEN_ERRORS =
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
 *   clients: ClientRegistry, identities: IdentityLists,
 *   timers: Set<NodeJS.Timeout>, log: (msg: string) => void }} Context
 */

/** Thrown for input a caller can fix; the handlers turn it into a 400. */
export class InputError extends Error {}

// --- Small helpers -------------------------------------------------------------------------------------------

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** @param {http.ServerResponse} res @param {string} location */
export function redirect(res, location) {
  res.writeHead(302, { location, 'cache-control': 'no-store' }).end();
}

/** Keeps any query the redirect_uri already has. @param {string} base @param {Record<string, string>} params */
export function withParams(base, params) {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** @param {string[]} scopes */
export function googleScopeString(scopes) {
  return scopes.map((scope) => GOOGLE_SCOPES[/** @type {keyof typeof GOOGLE_SCOPES} */ (scope)]).join(' ');
}

/** A stable decimal string of `length` digits derived from `seed`. */
export function derivedDigits(/** @type {string} */ seed, /** @type {number} */ length) {
  const hash = BigInt(`0x${createHash('sha256').update(seed).digest('hex')}`);
  return (hash % 10n ** BigInt(length)).toString().padStart(length, '0');
}

/** @param {string} value */
export function isHttpUrl(value) {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** @param {unknown} value @returns {value is Record<string, any>} */
export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** @param {unknown} value @param {string} name @returns {string} */
export function requireString(value, name) {
  if (typeof value !== 'string' || value === '') throw new InputError(`${name} must be a non-empty string`);
  return value;
}

/** @param {unknown} value @param {string} name @returns {string | undefined} */
export function optionalString(value, name) {
  return value === undefined || value === null ? undefined : requireString(value, name);
}

/** @param {unknown} value @param {string} name @returns {boolean | undefined} */
export function optionalBoolean(value, name) {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InputError(`${name} must be a boolean`);
  return value;
}

/** @param {string | undefined} url */
export function parseUrl(url) {
  try {
    return new URL(url ?? '/', 'http://stand-in');
  } catch {
    return new URL('http://stand-in/invalid');
  }
}
