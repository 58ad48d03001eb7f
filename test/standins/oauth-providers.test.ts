// The OAuth stand-in's consent pages, as `npm run dev` serves them: none of the offered test accounts
// may be an admin, and the dev configuration lists no admin a stranger could claim.
/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import devVarsExample from '../../.dev.vars.example?raw';
import { bindings } from '../support/bindings';

interface Identities {
  google: { email: string }[];
  github: { emails: { email: string }[] }[];
}

const listed = (text: string, name: string) =>
  (new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1] ?? '')
    .split(',')
    .map((email) => email.trim().toLowerCase())
    .filter(Boolean);

describe('OAuth stand-in consent pages', () => {
  it('offer no account whose email is an admin in dev or in the tests', async () => {
    const response = await fetch(`${bindings.TEST_OAUTH_URL}/_standin/identities`);
    expect(response.status).toBe(200);
    const identities = (await response.json()) as Identities;
    const offered = [
      ...identities.google.map((identity) => identity.email),
      ...identities.github.flatMap((identity) => identity.emails.map((entry) => entry.email)),
    ].map((email) => email.toLowerCase());
    expect(offered.length).toBeGreaterThan(0);
    const admins = [
      ...listed(devVarsExample, 'ADMIN_EMAILS'),
      ...listed(`ADMIN_EMAILS=${bindings.ADMIN_EMAILS}`, 'ADMIN_EMAILS'),
    ];
    expect(offered.filter((email) => admins.includes(email))).toEqual([]);
    expect(offered.some((email) => email.startsWith('admin'))).toBe(false);
  });

  it('run against a dev configuration that makes nobody an admin by default', () => {
    // Locally anyone can claim any address (typed-in consent identities, the open mailbox).
    expect(listed(devVarsExample, 'ADMIN_EMAILS')).toEqual([]);
  });
});
