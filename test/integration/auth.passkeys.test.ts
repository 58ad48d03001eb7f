// Passkeys through the Worker entry, with a software authenticator: registration, usernameless sign-in,
// step-up, removal; replayed, expired, foreign and racing challenges; cloned counters; and what each
// change does to the sessions hanging off the account.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { passkeys, sessions, users, webauthnChallenges } from '../../src/db/schema';
import {
  bearer,
  createUser,
  db,
  expectSignedOut,
  login,
  PASSWORD,
  refreshCookieOf,
  signInTwice,
} from '../support/accounts';
import { envWithClock, fakeClock } from '../support/clock';
import { waitForMailWith } from '../support/mailbox';
import {
  type CreationOptions,
  type RequestOptions,
  type SoftwarePasskey,
  softwarePasskey,
} from '../support/passkeys';
import { expectProblem } from '../support/problem';
import { enableTotp } from '../support/second-factors';
import { api } from '../support/worker';

const post = (path: string, token: string | null, json?: unknown, env?: Env) =>
  api(
    path,
    { method: 'POST', headers: token ? bearer(token) : {}, ...(json === undefined ? {} : { json }) },
    env,
  );

async function creationOptions(token: string, env?: Env): Promise<CreationOptions & Record<string, unknown>> {
  const response = await post('/passkeys/register/options', token, undefined, env);
  expect(response.status).toBe(200);
  return response.json();
}

async function loginOptions(env?: Env): Promise<RequestOptions & Record<string, unknown>> {
  const response = await post('/login/passkey/options', null, undefined, env);
  expect(response.status).toBe(200);
  return response.json();
}

/** A verified user, signed in, with one registered passkey. */
async function withPasskey({ env, counter = 0 }: { env?: Env; counter?: number } = {}) {
  const user = await createUser();
  const { token } = await login(user.email, PASSWORD, {}, env);
  const key = await softwarePasskey({ counter });
  const response = await post(
    '/passkeys/register',
    token,
    { response: await key.register(await creationOptions(token, env)), name: 'Work laptop' },
    env,
  );
  expect(response.status).toBe(201);
  const passkey = (await response.json()) as { id: string };
  return { user, token, key, passkey };
}

async function signInWith(key: SoftwarePasskey, env?: Env, headers: Record<string, string> = {}) {
  const response = await api(
    '/login/passkey',
    { method: 'POST', json: { response: await key.assert(await loginOptions(env)) }, headers },
    env,
  );
  return response;
}

describe('registering a passkey', () => {
  it('offers creation options for a discoverable, user-verifying credential on the configured RP', async () => {
    const user = await createUser();
    const options = await creationOptions((await login(user.email)).token);
    expect(options).toMatchObject({
      rp: { id: 'edgeauth.test', name: 'edgeauth-test' },
      user: { name: user.email, displayName: user.username },
      pubKeyCredParams: [
        { type: 'public-key', alg: -8 },
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -257 },
      ],
      timeout: 300_000,
      excludeCredentials: [],
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      },
      attestation: 'none',
    });
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The user handle is the account's id as 16 bytes, not its email.
    expect(options.user.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('stores it, lists it, counts it on /me, emails a notice, and excludes it next time', async () => {
    const { user, token, key, passkey } = await withPasskey();
    expect(passkey).toMatchObject({ name: 'Work laptop', last_used_at: null, backed_up: true });
    const listed = await api('/passkeys', { headers: bearer(token) });
    expect(await listed.json()).toEqual({
      passkeys: [
        {
          id: passkey.id,
          name: 'Work laptop',
          created_at: expect.any(String),
          last_used_at: null,
          backed_up: true,
          transports: ['internal', 'hybrid'],
        },
      ],
    });
    const me = (await (await api('/me', { headers: bearer(token) })).json()) as { mfa: unknown };
    expect(me.mfa).toEqual({ totp: false, passkeys: 1 });
    await waitForMailWith(user.email, /A passkey was added/);
    const again = await creationOptions(token);
    expect(again.excludeCredentials).toEqual([
      { id: key.credentialId, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
    // The same authenticator registering its credential again is a conflict, not a second row.
    const duplicate = await post('/passkeys/register', token, { response: await key.register(again) });
    await expectProblem(duplicate, 409, 'CONFLICT');
    expect(await db().select().from(passkeys).where(eq(passkeys.userId, user.id))).toHaveLength(1);
  });

  it('needs a verified email and a recent authentication', async () => {
    const unverified = await createUser({ isVerified: false });
    const options = await post('/passkeys/register/options', (await login(unverified.email)).token);
    await expectProblem(options, 403, 'EMAIL_NOT_VERIFIED');
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const { token } = await login(user.email, PASSWORD, {}, env);
    clock.advance(601);
    await expectProblem(
      await post('/passkeys/register/options', token, undefined, env),
      403,
      'REAUTHENTICATION_REQUIRED',
    );
    await expectProblem(await post('/passkeys/register/options', null), 401, 'UNAUTHORIZED');
  });

  it('refuses a used, expired or another account’s challenge, and another origin', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const { token } = await login(user.email, PASSWORD, {}, env);
    const key = await softwarePasskey();
    const register = (response: unknown) => post('/passkeys/register', token, { response }, env);

    const options = await creationOptions(token, env);
    const response = await key.register(options);
    expect((await register(response)).status).toBe(201);
    await expectProblem(await register(response), 400, 'PASSKEY_REJECTED');

    const expiring = await creationOptions(token, env);
    clock.advance(301);
    const late = await register(await (await softwarePasskey()).register(expiring));
    expect((await expectProblem(late, 400, 'PASSKEY_REJECTED')).detail).toMatch(
      /expired or was already used/,
    );

    const other = await createUser();
    const theirs = await creationOptions((await login(other.email, PASSWORD, {}, env)).token, env);
    await expectProblem(
      await register(await (await softwarePasskey()).register(theirs)),
      400,
      'PASSKEY_REJECTED',
    );

    const fresh = await creationOptions(token, env);
    const foreign = await (await softwarePasskey()).register(fresh, { origin: 'https://evil.example' });
    const refused = await register(foreign);
    expect((await expectProblem(refused, 400, 'PASSKEY_REJECTED')).detail).toMatch(/origin/);
    expect(await db().select().from(passkeys).where(eq(passkeys.userId, user.id))).toHaveLength(1);
  });

  it('needs a recent authentication at registration too, not only for the options', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const user = await createUser();
    const { token } = await login(user.email, PASSWORD, {}, env);
    clock.advance(450);
    const options = await creationOptions(token, env);
    clock.advance(160);
    const late = await post(
      '/passkeys/register',
      token,
      { response: await (await softwarePasskey()).register(options) },
      env,
    );
    await expectProblem(late, 403, 'REAUTHENTICATION_REQUIRED');
    expect(await db().select().from(passkeys).where(eq(passkeys.userId, user.id))).toEqual([]);
  });

  it('answers 422 for a body that is not a registration response', async () => {
    const user = await createUser();
    const { token } = await login(user.email);
    for (const json of [
      {},
      { response: {} },
      { response: { id: 'a', rawId: 'a', type: 'x', response: {} } },
    ]) {
      await expectProblem(await post('/passkeys/register', token, json), 422, 'VALIDATION_FAILED');
    }
  });
});

describe('signing in with a passkey', () => {
  it('offers the same options to everyone, naming no account', async () => {
    const options = await loginOptions();
    expect(Object.keys(options).sort()).toEqual(['challenge', 'rpId', 'timeout', 'userVerification']);
    expect(options).toMatchObject({ rpId: 'edgeauth.test', userVerification: 'required', timeout: 300_000 });
  });

  it('signs in like /login: access token, refresh cookie, or the refresh token in the body', async () => {
    const { user, key } = await withPasskey();
    const response = await signInWith(key);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; user: { email: string } };
    expect(body.user.email).toBe(user.email);
    expect(refreshCookieOf(response)).toEqual(expect.any(String));
    expect((await api('/me', { headers: bearer(body.token) })).status).toBe(200);
    const native = await signInWith(key, undefined, { 'X-Refresh-Token-Transport': 'body' });
    expect(((await native.json()) as { refresh_token?: string }).refresh_token).toEqual(expect.any(String));
    const [row] = await db().select().from(passkeys).where(eq(passkeys.userId, user.id));
    expect(row!.lastUsedAt).not.toBeNull();
  });

  it('is a whole sign-in: an account with TOTP on gets its session without a code', async () => {
    const { user, key } = await withPasskey();
    await enableTotp(user.email);
    const response = await signInWith(key);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Record<string, unknown>).mfa_required).toBeUndefined();
  });

  it('works once per challenge: a replayed assertion is refused, and of two racing exactly one wins', async () => {
    const { key } = await withPasskey();
    const assertion = await key.assert(await loginOptions());
    const once = () => api('/login/passkey', { method: 'POST', json: { response: assertion } });
    const raced = await Promise.all([once(), once()]);
    expect(raced.map((r) => r.status).sort()).toEqual([200, 400]);
    await expectProblem(await once(), 400, 'PASSKEY_REJECTED');
  });

  it('refuses an expired challenge, a registration challenge, and a counter that went backwards', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const { token, key } = await withPasskey({ env, counter: 7 });
    const options = await loginOptions(env);
    clock.advance(301);
    const late = await api(
      '/login/passkey',
      { method: 'POST', json: { response: await key.assert(options) } },
      env,
    );
    await expectProblem(late, 400, 'PASSKEY_REJECTED');

    const registration = await creationOptions(token, env);
    const wrongPurpose = await key.assert({ challenge: registration.challenge, rpId: 'edgeauth.test' });
    await expectProblem(
      await api('/login/passkey', { method: 'POST', json: { response: wrongPurpose } }, env),
      400,
      'PASSKEY_REJECTED',
    );

    expect((await signInWith(key, env)).status).toBe(200);
    const cloned = await key.assert(await loginOptions(env), { counter: 3 });
    const refused = await api('/login/passkey', { method: 'POST', json: { response: cloned } }, env);
    expect((await expectProblem(refused, 400, 'PASSKEY_REJECTED')).detail).toMatch(/cloned/);
  });

  it('refuses an unknown passkey, a user handle of someone else, and a deactivated account', async () => {
    const stranger = await softwarePasskey();
    stranger.userHandle = 'AAAAAAAAAAAAAAAAAAAAAA';
    await expectProblem(await signInWith(stranger), 400, 'PASSKEY_REJECTED');

    const { user, key } = await withPasskey();
    const ownHandle = key.userHandle;
    key.userHandle = 'AAAAAAAAAAAAAAAAAAAAAA';
    await expectProblem(await signInWith(key), 400, 'PASSKEY_REJECTED');
    key.userHandle = ownHandle;

    await db().update(users).set({ isActive: false }).where(eq(users.id, user.id));
    await expectProblem(await signInWith(key), 403, 'ACCOUNT_DISABLED');
  });

  it('answers 422 for a body that is not an assertion, and allows no empty body', async () => {
    for (const json of [{}, { response: { id: 'a', rawId: 'a', type: 'public-key', response: {} } }]) {
      await expectProblem(await api('/login/passkey', { method: 'POST', json }), 422, 'VALIDATION_FAILED');
    }
  });
});

describe('removing a passkey', () => {
  it('ends every other session, keeps this one, emails a notice, and the passkey stops working', async () => {
    const { user, token, key, passkey } = await withPasskey();
    const others = await signInTwice(user.email);
    const removed = await api(`/passkeys/${passkey.id}`, { method: 'DELETE', headers: bearer(token) });
    expect(removed.status).toBe(204);
    await expectSignedOut(others);
    expect((await api('/me', { headers: bearer(token) })).status).toBe(200);
    await waitForMailWith(user.email, /A passkey was removed/);
    await expectProblem(await signInWith(key), 400, 'PASSKEY_REJECTED');
    await expectProblem(
      await api(`/passkeys/${passkey.id}`, { method: 'DELETE', headers: bearer(token) }),
      404,
      'NOT_FOUND',
    );
  });

  it('cannot remove another account’s passkey, needs a recent authentication and a UUID', async () => {
    const { passkey } = await withPasskey();
    const clock = fakeClock();
    const env = envWithClock(clock);
    const other = await createUser();
    const { token } = await login(other.email, PASSWORD, {}, env);
    await expectProblem(
      await api(`/passkeys/${passkey.id}`, { method: 'DELETE', headers: bearer(token) }, env),
      404,
      'NOT_FOUND',
    );
    await expectProblem(
      await api('/passkeys/not-a-uuid', { method: 'DELETE', headers: bearer(token) }, env),
      422,
      'VALIDATION_FAILED',
    );
    clock.advance(601);
    await expectProblem(
      await api(`/passkeys/${passkey.id}`, { method: 'DELETE', headers: bearer(token) }, env),
      403,
      'REAUTHENTICATION_REQUIRED',
    );
    expect(await db().select().from(passkeys).where(eq(passkeys.id, passkey.id))).toHaveLength(1);
  });
});

describe('reauthenticating with a passkey', () => {
  it('marks the session fresh with an assertion over /reauthenticate/options', async () => {
    const clock = fakeClock();
    const env = envWithClock(clock);
    const { user, token, key } = await withPasskey({ env });
    clock.advance(601);
    await expectProblem(
      await post('/mfa/totp/setup', token, undefined, env),
      403,
      'REAUTHENTICATION_REQUIRED',
    );
    const options = (await (
      await post('/reauthenticate/options', token, undefined, env)
    ).json()) as RequestOptions & {
      allowCredentials: unknown[];
    };
    expect(options.allowCredentials).toEqual([
      { id: key.credentialId, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
    const assertion = await key.assert(options);
    const step = await post('/reauthenticate', token, { response: assertion }, env);
    expect(step.status).toBe(200);
    expect(await step.json()).toEqual({
      authenticated_at: clock.now().toISOString(),
      valid_for_seconds: 600,
    });
    expect((await post('/mfa/totp/setup', token, undefined, env)).status).toBe(200);
    await expectProblem(
      await post('/reauthenticate', token, { response: assertion }, env),
      400,
      'PASSKEY_REJECTED',
    );
    const [session] = await db().select().from(sessions).where(eq(sessions.userId, user.id));
    expect(session!.authenticatedAt.toISOString()).toBe(clock.now().toISOString());
  });

  it('binds the challenge to the session that asked: another session of the same user cannot spend it', async () => {
    const { user, token, key } = await withPasskey();
    const other = await login(user.email);
    const options = (await (await post('/reauthenticate/options', token)).json()) as RequestOptions;
    const assertion = await key.assert(options);
    await expectProblem(
      await post('/reauthenticate', other.token, { response: assertion }),
      400,
      'PASSKEY_REJECTED',
    );
    expect((await post('/reauthenticate', token, { response: assertion })).status).toBe(200);
  });

  it('refuses another account’s passkey, a login challenge, and answers 409 without passkeys', async () => {
    const mine = await withPasskey();
    const theirs = await withPasskey();
    const options = (await (await post('/reauthenticate/options', mine.token)).json()) as RequestOptions;
    await expectProblem(
      await post('/reauthenticate', mine.token, { response: await theirs.key.assert(options) }),
      400,
      'PASSKEY_REJECTED',
    );
    const forLogin = await mine.key.assert(await loginOptions());
    await expectProblem(
      await post('/reauthenticate', mine.token, { response: forLogin }),
      400,
      'PASSKEY_REJECTED',
    );
    const none = await createUser();
    await expectProblem(
      await post('/reauthenticate/options', (await login(none.email)).token),
      409,
      'MFA_STATE',
    );
    await expectProblem(
      await post('/reauthenticate', mine.token, { password: PASSWORD, response: forLogin }),
      422,
      'VALIDATION_FAILED',
    );
  });
});

describe('what other flows do to passkeys', () => {
  it('a password reset or change leaves passkeys working; deleting the account deletes them', async () => {
    const { user, token, key } = await withPasskey();
    const changed = await post('/change-password', token, {
      old_password: PASSWORD,
      new_password: 'another password 9',
    });
    expect(changed.status).toBe(200);
    expect((await signInWith(key)).status).toBe(200);
    await db().delete(users).where(eq(users.id, user.id));
    expect(await db().select().from(passkeys).where(eq(passkeys.userId, user.id))).toEqual([]);
    expect(
      await db().select().from(webauthnChallenges).where(eq(webauthnChallenges.userId, user.id)),
    ).toEqual([]);
  });

  it('deactivation signs the passkey out with everything else', async () => {
    const { token, key } = await withPasskey();
    const closed = await post('/deactivate', token, { password: PASSWORD });
    expect(closed.status).toBe(200);
    await expectProblem(await signInWith(key), 403, 'ACCOUNT_DISABLED');
  });
});
