// The two cookies we set, both httpOnly and scoped to the one path that reads them: the refresh token
// (/refresh-token) and the OAuth flow state (/auth/social/callback), so no other request carries them.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../env';

export const REFRESH_COOKIE = 'edgeauth_refresh';

type CookieConfig = Pick<Config, 'APP_URL' | 'COOKIE_SECURE' | 'COOKIE_SAMESITE' | 'REFRESH_TOKEN_EXPIRE'>;

/** Honours a path prefix in APP_URL (an API served under /auth keeps its cookie under /auth). */
export function refreshCookiePath(config: Pick<Config, 'APP_URL'>): string {
  return `${new URL(config.APP_URL).pathname.replace(/\/$/, '')}/refresh-token`;
}

function options(config: CookieConfig) {
  return {
    path: refreshCookiePath(config),
    httpOnly: true,
    // SameSite=None is only honoured on Secure cookies.
    secure: config.COOKIE_SECURE || config.COOKIE_SAMESITE === 'None',
    sameSite: config.COOKIE_SAMESITE,
  } as const;
}

export function setRefreshCookie(c: Context, config: CookieConfig, token: string): void {
  setCookie(c, REFRESH_COOKIE, token, { ...options(config), maxAge: config.REFRESH_TOKEN_EXPIRE });
}

export function clearRefreshCookie(c: Context, config: CookieConfig): void {
  deleteCookie(c, REFRESH_COOKIE, options(config));
}

export function readRefreshCookie(c: Context): string | undefined {
  return getCookie(c, REFRESH_COOKIE);
}

export const OAUTH_COOKIE = 'edgeauth_oauth';

function oauthOptions(config: Pick<Config, 'APP_URL' | 'COOKIE_SECURE'>) {
  return {
    path: `${new URL(config.APP_URL).pathname.replace(/\/$/, '')}/auth/social/callback`,
    httpOnly: true,
    secure: config.COOKIE_SECURE,
    // Lax whatever the configuration: the provider sends the browser back with a top-level GET.
    sameSite: 'Lax',
  } as const;
}

export function setOAuthCookie(
  c: Context,
  config: Pick<Config, 'APP_URL' | 'COOKIE_SECURE'>,
  value: string,
  maxAge: number,
) {
  setCookie(c, OAUTH_COOKIE, value, { ...oauthOptions(config), maxAge });
}

export function clearOAuthCookie(c: Context, config: Pick<Config, 'APP_URL' | 'COOKIE_SECURE'>): void {
  deleteCookie(c, OAUTH_COOKIE, oauthOptions(config));
}

export function readOAuthCookie(c: Context): string | undefined {
  return getCookie(c, OAUTH_COOKIE);
}
