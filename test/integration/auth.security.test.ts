// The shared security suite (test/support/security.ts) run for every bearer-protected account route,
// plus how the Authorization header itself is parsed.
import { describe, expect, it } from 'vitest';
import { PASSWORD } from '../support/accounts';
import { callRoute, describeProtectedRoute, type ProtectedRoute, signInFreshUser } from '../support/security';

const ROUTES: ProtectedRoute[] = [
  { method: 'GET', path: '/me', requiresVerified: false },
  { method: 'GET', path: '/sessions', requiresVerified: false },
  { method: 'DELETE', path: `/sessions/${crypto.randomUUID()}`, requiresVerified: false },
  { method: 'POST', path: '/logout', requiresVerified: false },
  { method: 'POST', path: '/logout-all', requiresVerified: false },
  { method: 'POST', path: '/request/verify', requiresVerified: false },
  {
    method: 'POST',
    path: '/change-password',
    body: { old_password: PASSWORD, new_password: 'a brand new passphrase' },
    requiresVerified: true,
  },
  // Unverified accounts may close themselves: they are deleted (README, "Account lifecycle").
  { method: 'POST', path: '/deactivate', body: { password: PASSWORD }, requiresVerified: false },
  { method: 'POST', path: '/reauthenticate', body: { password: PASSWORD }, requiresVerified: false },
  { method: 'POST', path: '/mfa/totp/setup', requiresVerified: true },
  { method: 'POST', path: '/mfa/totp/confirm', body: { code: '123456' }, requiresVerified: true },
  { method: 'DELETE', path: '/mfa/totp', requiresVerified: false },
  { method: 'POST', path: '/mfa/recovery-codes', requiresVerified: false },
  { method: 'POST', path: '/passkeys/register/options', requiresVerified: true },
  { method: 'POST', path: '/passkeys/register', body: { response: {} }, requiresVerified: true },
  { method: 'GET', path: '/passkeys', requiresVerified: false },
  { method: 'DELETE', path: `/passkeys/${crypto.randomUUID()}`, requiresVerified: false },
  { method: 'POST', path: '/reauthenticate/options', requiresVerified: false },
];

for (const route of ROUTES) describeProtectedRoute(route);

describe('Authorization header syntax (RFC 6750 §2.1, RFC 7235 §2.1)', () => {
  const me: ProtectedRoute = { method: 'GET', path: '/me', requiresVerified: false };

  it('accepts the auth scheme in any letter case', async () => {
    const { accessToken } = await signInFreshUser();
    for (const scheme of ['bearer', 'BEARER']) {
      expect((await callRoute(me, `${scheme} ${accessToken}`)).status).toBe(200);
    }
  });

  it('accepts more than one space between scheme and token', async () => {
    const { accessToken } = await signInFreshUser();
    expect((await callRoute(me, `Bearer  ${accessToken}`)).status).toBe(200);
  });
});
