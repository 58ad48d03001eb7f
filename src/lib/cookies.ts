// The refresh-token cookie: httpOnly, Secure and SameSite per config, and scoped to the one path that
// reads it (/refresh-token), so no other request ever carries the token.
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
