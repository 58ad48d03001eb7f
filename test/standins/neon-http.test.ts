// The Neon stand-in speaks Neon's protocol faithfully enough for the production driver
// (drizzle-orm/neon-http over @neondatabase/serverless): types, batches, errors.

import { NeonDbError } from '@neondatabase/serverless';
import { eq, sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client';
import { plans, users } from '../../src/db/schema';
import { parseEnv } from '../../src/env';
import { bindings } from '../support/bindings';
import { testEnv } from '../support/worker';

let db: Database;
beforeAll(() => {
  db = createDatabase(parseEnv(testEnv()));
});

const unique = () => crypto.randomUUID().slice(0, 8);

describe('Neon stand-in through drizzle neon-http', () => {
  it('round-trips uuid, text, boolean, integer, enum, jsonb, null and timestamptz values', async () => {
    const [plan] = await db
      .insert(plans)
      .values({
        code: `pro-${unique()}`,
        name: 'Pro ünïcødé 🚀 "quoted" \\ back',
        priceCents: 1999,
        billingPeriod: 'yearly',
        tier: 'vip',
        features: ['api', 'sso', 'emoji 🚀', 'quote " and \\'],
      })
      .returning();
    expect(plan).toMatchObject({
      name: 'Pro ünïcødé 🚀 "quoted" \\ back',
      priceCents: 1999,
      billingPeriod: 'yearly',
      tier: 'vip',
      isActive: true,
      description: null,
      features: ['api', 'sso', 'emoji 🚀', 'quote " and \\'],
    });
    expect(plan?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(plan?.createdAt).toBeInstanceOf(Date);
    expect(Math.abs((plan?.createdAt.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);

    const [again] = await db.select().from(plans).where(eq(plans.id, plan!.id));
    expect(again).toEqual(plan);
  });

  it('returns raw values through sql`` with the types Postgres reports', async () => {
    const result = await db.execute<{ n: number; big: string; arr: number[]; ok: boolean; nothing: null }>(
      sql`select 42::int4 as n, 9007199254740993::int8 as big, array[1,2,3] as arr, true as ok, null as nothing`,
    );
    expect(result.rows[0]).toEqual({
      n: 42,
      big: '9007199254740993',
      arr: [1, 2, 3],
      ok: true,
      nothing: null,
    });
  });

  it('rolls a failed batch back entirely', async () => {
    const email = `batch-${unique()}@example.com`;
    const attempt = db.batch([
      db.insert(users).values({ email, username: `first-${unique()}` }),
      db.insert(users).values({ email: email.toUpperCase(), username: `second-${unique()}` }),
    ]);
    // Reported like a failed single query: a DrizzleQueryError with the driver's error as its cause.
    const failure = await attempt.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DrizzleQueryError);
    const cause = (failure as DrizzleQueryError).cause;
    expect(cause).toBeInstanceOf(NeonDbError);
    expect((cause as NeonDbError).code).toBe('23505');
    const rows = await db.select().from(users).where(sql`lower(${users.email}) = ${email}`);
    expect(rows).toHaveLength(0);
  });

  it('runs a batch as one transaction that sees its own writes, and commits it', async () => {
    const email = `ok-${unique()}@example.com`;
    const [inserted, counted] = await db.batch([
      db
        .insert(users)
        .values({ email, username: `ok-${unique()}` })
        .returning({ id: users.id }),
      db.select({ n: sql<number>`count(*)::int` }).from(users).where(eq(users.email, email)),
    ]);
    expect(inserted).toHaveLength(1);
    expect(counted).toEqual([{ n: 1 }]);
    expect(await db.$count(users, eq(users.email, email))).toBe(1);
  });

  it('raises unique violations with their SQLSTATE and constraint name', async () => {
    const name = `dup-${unique()}`;
    await db.insert(users).values({ email: `${name}@example.com`, username: name });
    const error = await db
      .insert(users)
      .values({ email: `${name.toUpperCase()}@EXAMPLE.com`, username: `${name}-2` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrizzleQueryError);
    const cause = (error as DrizzleQueryError).cause as NeonDbError;
    expect(cause).toBeInstanceOf(NeonDbError);
    expect(cause.code).toBe('23505');
    expect(cause.constraint).toBe('users_email_lower_key');
  });

  it('raises check violations with their code and constraint', async () => {
    const error = await db
      .insert(plans)
      .values({ code: `neg-${unique()}`, name: 'neg', priceCents: -1, billingPeriod: 'monthly' })
      .catch((e: unknown) => e);
    const check = (error as DrizzleQueryError).cause as NeonDbError;
    expect(check.code).toBe('23514');
    expect(check.constraint).toBe('plans_price_cents_check');
  });

  it('rejects multi-statement strings, like Neon', async () => {
    const error = await db.execute(sql.raw('select 1; select 2')).catch((e: DrizzleQueryError) => e.cause);
    expect((error as NeonDbError).message).toMatch(/multiple commands/);
  });

  it('keeps each test file in its own database', async () => {
    const email = `isolated-${unique()}@example.com`;
    await db.insert(users).values({ email, username: `iso-${unique()}` });
    const shared = createDatabase(parseEnv(bindings));
    expect(testEnv().DATABASE_URL).not.toBe(bindings.DATABASE_URL);
    expect(await db.$count(users, eq(users.email, email))).toBe(1);
    expect(await shared.$count(users, eq(users.email, email))).toBe(0);
  });
});
