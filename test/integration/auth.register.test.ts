// POST /register through the Worker entry: the created account, the answer for a taken email (same
// shape, notice to the owner), username conflicts, validation, mass assignment and concurrent sign-ups.
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { emailTokens, users } from '../../src/db/schema';
import { createUser, db, reloadUser, uniqueEmail } from '../support/accounts';
import { mailsTo, waitForMail } from '../support/mailbox';
import { expectProblem } from '../support/problem';
import { api } from '../support/worker';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const OWASP_HASH = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const PASSWORD = 'a strong password';
const VERIFY_SUBJECT = 'Verify your email for edgeauth-test';
const NOTICE_SUBJECT = 'Sign-up attempt with your edgeauth-test email';

const uniqueUsername = (prefix = 'u') => `${prefix}${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;

const register = (json: unknown) => api('/register', { method: 'POST', json });

function expectJsonHeaders(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-request-id')).toMatch(UUID);
  expect(response.headers.get('ratelimit-limit')).toBe('1000');
  expect(response.headers.getSetCookie()).toEqual([]);
}

/** Keys and value types, recursively: what a client could tell two bodies apart by, short of the values. */
function shapeOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, inner]) => [key, shapeOf(inner)]),
  );
}

async function rowsWithEmail(email: string) {
  return db().select().from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
}

/**
 * Runs `work` while every insert of an account whose email starts with "held-" sits for a second in an
 * insert trigger, written but not committed.
 */
async function withHeldInserts(work: () => Promise<void>) {
  await db().execute(
    sql.raw(`create or replace function hold_insert() returns trigger language plpgsql as $$
      begin perform pg_sleep(1); return new; end $$`),
  );
  await db().execute(
    sql.raw(`create trigger hold_insert after insert on users for each row
      when (new.email like 'held-%') execute function hold_insert()`),
  );
  try {
    await work();
  } finally {
    await db().execute(sql.raw('drop trigger hold_insert on users'));
    await db().execute(sql.raw('drop function hold_insert()'));
  }
}

/**
 * Resolves once an insert sits in hold_insert's sleep, or once `request` is answered: on PGlite (one
 * connection) this query waits behind the insert, and the sign-ups then queue rather than race.
 */
async function heldOrAnswered(request: Promise<Response>) {
  let answered = false;
  request.then(
    () => {
      answered = true;
    },
    () => {
      answered = true;
    },
  );
  while (!answered) {
    const { rows } = await db().execute<{ held: boolean }>(
      sql`select exists (select 1 from pg_stat_activity where wait_event = 'PgSleep' and datname = current_database()) as held`,
    );
    if (rows[0]?.held) return;
  }
}

describe('POST /register', () => {
  it('creates the account and answers 201 {user}, with a verification email', async () => {
    const email = uniqueEmail('new');
    const username = uniqueUsername('new');
    const response = await register({ email, username, password: PASSWORD });

    expect(response.status).toBe(201);
    expectJsonHeaders(response);
    const body = (await response.json()) as { user: Record<string, unknown> };
    expect(body).toEqual({
      user: {
        id: expect.stringMatching(UUID),
        email,
        username,
        is_verified: false,
        is_admin: false,
        has_password: true,
        created_at: expect.stringMatching(ISO_TIME),
      },
    });

    const row = await reloadUser(body.user.id as string);
    expect(row).toMatchObject({
      email,
      username,
      isVerified: false,
      isActive: true,
      isAdmin: false,
      deactivatedAt: null,
    });
    expect(row!.passwordHash).toMatch(OWASP_HASH);
    expect(row!.createdAt.toISOString()).toBe(body.user.created_at);

    const mail = await waitForMail(email);
    expect(mail.Subject).toBe(VERIFY_SUBJECT);
    expect(mail.Text).toContain(`Hi ${username},`);
  });

  it('keeps the email as typed but treats it case-insensitively for uniqueness', async () => {
    const email = `Mixed.Case-${crypto.randomUUID().slice(0, 8)}@Example.COM`;
    const first = await register({ email, username: uniqueUsername(), password: PASSWORD });
    expect(first.status).toBe(201);
    const second = await register({
      email: email.toLowerCase(),
      username: uniqueUsername(),
      password: PASSWORD,
    });
    expect(second.status).toBe(201);

    const rows = await rowsWithEmail(email);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.email).toBe(email);
  });

  it('answers a taken email exactly like a new one, and sends its owner a notice instead', async () => {
    const owner = await createUser({ email: uniqueEmail('owner'), isVerified: true });
    const fresh = await register({
      email: uniqueEmail('fresh'),
      username: uniqueUsername(),
      password: PASSWORD,
    });
    const username = uniqueUsername('intruder');
    const taken = await register({ email: owner.email.toUpperCase(), username, password: PASSWORD });

    expect(taken.status).toBe(fresh.status);
    expect(taken.status).toBe(201);
    expectJsonHeaders(taken);
    expect([...taken.headers.keys()].sort()).toEqual([...fresh.headers.keys()].sort());
    const freshBody = (await fresh.json()) as { user: Record<string, unknown> };
    const takenText = await taken.text();
    const takenBody = JSON.parse(takenText) as { user: Record<string, unknown> };
    expect(shapeOf(takenBody)).toEqual(shapeOf(freshBody));
    expect(takenBody).toEqual({
      user: {
        id: expect.stringMatching(UUID),
        email: owner.email.toUpperCase(),
        username,
        is_verified: false,
        is_admin: false,
        has_password: true,
        created_at: expect.stringMatching(ISO_TIME),
      },
    });
    // Nothing of the existing account leaks: not its id, its username, its creation time or its state.
    expect(takenBody.user.id).not.toBe(owner.id);
    expect(takenText).not.toContain(owner.id);
    expect(takenText).not.toContain(owner.username);
    expect(takenText).not.toContain(owner.createdAt.toISOString());

    const rows = await rowsWithEmail(owner.email);
    expect(rows.map((row) => row.id)).toEqual([owner.id]);
    expect(rows[0]!.username).toBe(owner.username);
    expect(rows[0]!.passwordHash).toBe(owner.passwordHash);

    const notice = await waitForMail(owner.email);
    expect(notice.Subject).toBe(NOTICE_SUBJECT);
    expect(notice.Text).toContain(`Hi ${owner.username},`);
    // No verification link was made for the existing account, so no verification email can follow.
    const tokens = await db().select().from(emailTokens).where(eq(emailTokens.userId, owner.id));
    expect(tokens).toEqual([]);
    expect((await mailsTo(owner.email)).map((mail) => mail.Subject)).toEqual([NOTICE_SUBJECT]);
  });

  it('answers 409 USERNAME_TAKEN for a username taken in any letter case', async () => {
    const holder = await createUser({ username: `Taken${crypto.randomUUID().slice(0, 8)}` });
    const email = uniqueEmail('second');
    const response = await register({ email, username: holder.username.toLowerCase(), password: PASSWORD });

    const body = await expectProblem(response, 409, 'USERNAME_TAKEN');
    expect(body).toEqual({
      type: 'about:blank',
      title: 'Username taken',
      status: 409,
      detail: 'Username already exists',
      code: 'USERNAME_TAKEN',
      request_id: expect.any(String),
    });
    expect(await rowsWithEmail(email)).toEqual([]);
  });

  it('answers the same request sent twice alike for a new and a registered email', async () => {
    const registered = await createUser();
    const outcomes = async (email: string) => {
      const json = { email, username: uniqueUsername('twice'), password: PASSWORD };
      return [(await register(json)).status, (await register(json)).status];
    };
    const forNew = await outcomes(uniqueEmail('new'));
    const forRegistered = await outcomes(registered.email);
    // The second is refused for its username either way: the first took it (or seemed to).
    expect(forNew).toEqual([201, 409]);
    expect(forRegistered).toEqual(forNew);
  });

  it('answers a known username 409 whatever the email, so it never tells whose address is whose', async () => {
    const holder = await createUser();
    for (const email of [holder.email, holder.email.toUpperCase(), uniqueEmail('guess')]) {
      const response = await register({ email, username: holder.username, password: PASSWORD });
      await expectProblem(response, 409, 'USERNAME_TAKEN');
    }
  });

  it('still answers 409 when the username belongs to another address, whether or not this one is taken', async () => {
    const holder = await createUser();
    const registered = await createUser();
    for (const email of [uniqueEmail('other'), registered.email]) {
      const response = await register({ email, username: holder.username, password: PASSWORD });
      await expectProblem(response, 409, 'USERNAME_TAKEN');
    }
  });

  it.each([
    ['a password shorter than 8 characters', { password: 'short12' }, 'password'],
    ['a password longer than 128 characters', { password: 'p'.repeat(129) }, 'password'],
    ['an invalid email', { email: 'not-an-email' }, 'email'],
    ['an email without a domain', { email: 'ann@' }, 'email'],
    ['a username with forbidden characters', { username: 'ann smith!' }, 'username'],
    ['a username shorter than 3 characters', { username: 'ab' }, 'username'],
    ['a username starting with a dot', { username: '.ann' }, 'username'],
    ['a username longer than 32 characters', { username: 'a'.repeat(33) }, 'username'],
  ])('answers 422 VALIDATION_FAILED for %s', async (_case, override, path) => {
    const input = {
      email: uniqueEmail('invalid'),
      username: uniqueUsername(),
      password: PASSWORD,
      ...override,
    };
    const body = await expectProblem(await register(input), 422, 'VALIDATION_FAILED');
    expect(body.detail).toBe('The request is not valid');
    expect(body.errors).toEqual([{ path, message: expect.any(String) }]);
    expect(await rowsWithEmail(input.email)).toEqual([]);
  });

  it('accepts passwords of exactly 8 and exactly 128 characters', async () => {
    for (const password of ['p'.repeat(8), 'p'.repeat(128)]) {
      const response = await register({ email: uniqueEmail('edge'), username: uniqueUsername(), password });
      expect(response.status).toBe(201);
    }
  });

  it('answers 422 with one entry per missing field', async () => {
    const body = await expectProblem(await register({}), 422, 'VALIDATION_FAILED');
    const paths = (body.errors as { path: string }[]).map((error) => error.path).sort();
    expect(paths).toEqual(['email', 'password', 'username']);
  });

  it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
    const response = await api('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": "ann@example.com", "username": ',
    });
    const body = await expectProblem(response, 400, 'MALFORMED_REQUEST');
    expect(body.detail).toBe('Malformed JSON in request body');
  });

  it('ignores privileged fields in the body (mass assignment)', async () => {
    const email = uniqueEmail('mass');
    const response = await register({
      email,
      username: uniqueUsername(),
      password: PASSWORD,
      is_admin: true,
      is_verified: true,
      is_active: false,
      has_password: false,
      id: '00000000-0000-4000-8000-000000000000',
    });

    expect(response.status).toBe(201);
    const { user } = (await response.json()) as { user: Record<string, unknown> };
    expect(user).toMatchObject({ is_admin: false, is_verified: false, has_password: true });
    expect(user.id).not.toBe('00000000-0000-4000-8000-000000000000');
    const row = await reloadUser(user.id as string);
    expect(row).toMatchObject({ email, isAdmin: false, isVerified: false, isActive: true });
  });

  it('tells the owner and answers 409 for the username when a sign-up loses to one still committing', async () => {
    const email = uniqueEmail('held');
    const username = uniqueUsername('held');
    await withHeldInserts(async () => {
      const first = register({ email, username, password: PASSWORD });
      await heldOrAnswered(first);
      const [sameEmail, sameUsername] = await Promise.all([
        register({ email: email.toUpperCase(), username: uniqueUsername('held'), password: PASSWORD }),
        register({ email: uniqueEmail('held'), username: username.toUpperCase(), password: PASSWORD }),
      ]);
      expect((await first).status).toBe(201);
      expect(sameEmail.status).toBe(201);
      await expectProblem(sameUsername, 409, 'USERNAME_TAKEN');
    });
    await waitForMail(email, { count: 2 });
    const subjects = (await mailsTo(email)).map((mail) => mail.Subject).sort();
    expect(subjects).toEqual([NOTICE_SUBJECT, VERIFY_SUBJECT]);
  });

  it('answers a registered email as a new one when its username belongs to a sign-up still committing', async () => {
    // Without the locks, a registered email's conflict is found at once and a new one's waits for the
    // other sign-up, so one answered 201 and the other 409.
    const registered = await createUser({ email: uniqueEmail('owner') });
    const statusFor = async (email: string) => {
      const username = uniqueUsername('held');
      const first = register({ email: uniqueEmail('held'), username, password: PASSWORD });
      await heldOrAnswered(first);
      const probe = await register({ email, username, password: PASSWORD });
      expect((await first).status).toBe(201);
      return probe.status;
    };
    await withHeldInserts(async () => {
      expect(await statusFor(registered.email)).toBe(409);
      expect(await statusFor(uniqueEmail('probe'))).toBe(409);
    });
  });

  it('creates exactly one account when the same email registers five times at once', async () => {
    const email = uniqueEmail('race');
    const variants = [email, email.toUpperCase(), email, email.toUpperCase(), email];
    const usernames = variants.map(() => uniqueUsername('race'));
    const responses = await Promise.all(
      variants.map((variant, i) => register({ email: variant, username: usernames[i], password: PASSWORD })),
    );

    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as {
      user: Record<string, unknown>;
    }[];
    for (const body of bodies) expect(shapeOf(body)).toEqual(shapeOf(bodies[0]));

    const rows = await rowsWithEmail(email);
    expect(rows).toHaveLength(1);
    const winner = rows[0]!;
    expect(usernames).toContain(winner.username);
    expect(bodies.filter((body) => body.user.id === winner.id)).toHaveLength(1);

    // The winner is asked to verify; the owner hears of the other attempts once (one notice a minute).
    await waitForMail(email, { count: 2 });
    const subjects = (await mailsTo(email)).map((mail) => mail.Subject).sort();
    expect(subjects).toEqual([NOTICE_SUBJECT, VERIFY_SUBJECT]);
  });
});
