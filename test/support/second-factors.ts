// Turning TOTP on as a user does (setup, scan, confirm) and reading codes the way an authenticator app
// computes them: with otpauth, from the otpauth:// URI the API returned, never from our own TOTP code.
import * as OTPAuth from 'otpauth';
import { expect } from 'vitest';
import { bearer, login, PASSWORD } from './accounts';
import { api } from './worker';

/** What an authenticator app shows at `at`. */
export const codeAt = (totp: OTPAuth.TOTP, at: Date = new Date()) =>
  totp.generate({ timestamp: at.getTime() });

export async function setupTotp(token: string, env?: Env) {
  const response = await api('/mfa/totp/setup', { method: 'POST', headers: bearer(token) }, env);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { secret: string; otpauth_url: string; qr_svg: string };
  const totp = OTPAuth.URI.parse(body.otpauth_url);
  if (!(totp instanceof OTPAuth.TOTP)) throw new Error('not a TOTP URI');
  return { ...body, totp };
}

/** Signs in, sets up and confirms TOTP: the session token, the authenticator and the recovery codes. */
export async function enableTotp(email: string, { env, at }: { env?: Env; at?: Date } = {}) {
  const signedIn = await login(email, PASSWORD, {}, env);
  const { totp } = await setupTotp(signedIn.token, env);
  const confirmed = await api(
    '/mfa/totp/confirm',
    { method: 'POST', headers: bearer(signedIn.token), json: { code: codeAt(totp, at) } },
    env,
  );
  expect(confirmed.status).toBe(200);
  const { recovery_codes } = (await confirmed.json()) as { recovery_codes: string[] };
  return { token: signedIn.token, totp, recoveryCodes: recovery_codes };
}

/** POST /login with the password; for an account with TOTP on, the challenge. */
export async function firstFactor(email: string, env?: Env, headers: Record<string, string> = {}) {
  const response = await api('/login', { method: 'POST', json: { email, password: PASSWORD }, headers }, env);
  expect(response.status).toBe(200);
  return { response, body: (await response.json()) as Record<string, unknown> };
}

export async function mfaTokenFor(email: string, env?: Env): Promise<string> {
  const { body } = await firstFactor(email, env);
  expect(body).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] });
  return body.mfa_token as string;
}

export const secondFactor = (
  json: Record<string, unknown>,
  env?: Env,
  headers: Record<string, string> = {},
) => api('/login/mfa', { method: 'POST', json, headers }, env);
