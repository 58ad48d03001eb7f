// `redirect_to` on social sign-in: whatever is sent, the browser only ever lands on the front end or a
// listed origin. Each accepted target is followed through consent and the callback to the final 302.
import { describe, expect, it } from 'vitest';
import { uniqueEmail } from '../support/accounts';
import { callback, consent, googleIdentity } from '../support/oauth';
import { expectProblem } from '../support/problem';
import { api, testEnv } from '../support/worker';

const FRONTEND = 'https://app.example';
const LISTED = ['http://app.edgeauth.test', 'http://localhost:5173'];
const ALLOWED_ORIGINS = new Set([FRONTEND, ...LISTED]);
const env = testEnv({ FRONTEND_URL: FRONTEND, CORS_ORIGINS: LISTED.join(',') });
// One provider identity for every flow: after the first, each callback signs into the same account.
const identity = googleIdentity(uniqueEmail('redirect'));

/** Where the browser ends up: the callback's Location, or null when /google/login refused the target. */
async function landing(rawQueryValue: string): Promise<string | null> {
  const response = await api(`/google/login?redirect_to=${rawQueryValue}`, {}, env);
  if (response.status !== 302) {
    await expectProblem(response, 400, 'INVALID_REDIRECT');
    return null;
  }
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('edgeauth_oauth='))!;
  const started = { location: new URL(response.headers.get('location')!), cookie: cookie.split(';')[0]! };
  const back = await callback(await consent(started, identity), started.cookie, env);
  expect(back.status).toBe(302);
  return back.headers.get('location');
}

const landingFor = (target: string) => landing(encodeURIComponent(target));

function expectAllowed(location: string | null, target: string) {
  if (location === null) return;
  expect(ALLOWED_ORIGINS.has(new URL(location).origin), `${JSON.stringify(target)} -> ${location}`).toBe(
    true,
  );
  expect(location).not.toMatch(/^[a-z]+:\/\/[^/]*evil/i);
}

const CONTROL_CHARACTERS = [...Array.from({ length: 0x20 }, (_, code) => code), 0x7f].map((code) =>
  String.fromCharCode(code),
);
const POSITIONS = [
  (c: string) => `/${c}/evil.com`,
  (c: string) => `${c}//evil.com`,
  (c: string) => `/${c}\\evil.com`,
  (c: string) => `//${c}evil.com`,
  (c: string) => `https:${c}//evil.com`,
  (c: string) => `https://${c}evil.com/`,
];

describe('GET /google/login redirect_to', () => {
  it('refuses targets that the URL parser turns into another host', async () => {
    for (const target of [
      '/\t/evil.com',
      '/\n/evil.com',
      '/\r/evil.com',
      '\n//evil.com',
      '\t//evil.com',
      ' //evil.com',
      '/\\evil.com',
      '\\\\evil.com',
      '/\\/evil.com',
      '//evil.com',
      '///evil.com',
      'https://evil.com',
      'https:/\\evil.com',
      'https://app.example@evil.com',
      'https://app.example:@evil.com/',
      'https://app.example%40evil.com@evil.com',
      'http://app.edgeauth.test.evil.com/',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'blob:https://app.example/1',
      'ftp://app.example/',
      'https://[::1',
    ]) {
      expect(await landingFor(target), JSON.stringify(target)).toBeNull();
    }
  });

  it('refuses a TAB sent percent-encoded on the wire (/%09/evil.com)', async () => {
    expect(await landing('/%09/evil.com')).toBeNull();
    expect(await landing('/%0a/evil.com')).toBeNull();
    expect(await landing('%0d//evil.com')).toBeNull();
    expect(await landing('/%5cevil.com')).toBeNull();
  });

  it('never lands outside an allowed origin, whatever control character is inside the target', async () => {
    for (const position of POSITIONS) {
      for (const character of CONTROL_CHARACTERS) {
        const target = position(character);
        expectAllowed(await landingFor(target), target);
      }
    }
  });

  it('still accepts front-end paths and listed origins', async () => {
    expect(await landingFor('/welcome?tab=billing#plans')).toBe(`${FRONTEND}/welcome?tab=billing#plans`);
    expect(await landingFor('/')).toBe(`${FRONTEND}/`);
    expect(await landingFor(`${FRONTEND}/account`)).toBe(`${FRONTEND}/account`);
    expect(await landingFor('http://localhost:5173/callback')).toBe('http://localhost:5173/callback');
    expect(await landingFor('HTTP://APP.EDGEAUTH.TEST:80/x')).toBe('http://app.edgeauth.test/x');
    // A percent-encoded TAB that stays encoded is a path segment on the front end, not a new host.
    expect(await landing(encodeURIComponent('/%09/evil.com'))).toBe(`${FRONTEND}/%09/evil.com`);
  });
});
