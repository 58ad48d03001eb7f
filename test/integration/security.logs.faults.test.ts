// No personal data reaches a log line when a dependency fails: with a fault injected at each stand-in
// (database, Redis, Stripe, mail relay), the flows that carry an email and a password log the failure's
// kind and code, never the email, the password, a hash, SQL parameters or a Redis command.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app';
import worker from '../../src/index';
import { seal } from '../../src/lib/crypto';
import type { LoggedError } from '../../src/lib/log-error';
import { SEAL_PURPOSE } from '../../src/services/mail/jobs';
import { bearer, createUser, login, uniqueEmail, uniqueIp } from '../support/accounts';
import { createPlan } from '../support/billing';
import { bindings } from '../support/bindings';
import { databaseFault, mailFault, redisScope, withStripeFault } from '../support/faults';
import { API_ORIGIN, api, testEnv, useVars } from '../support/worker';

const PASSWORD = 'Fault-Tolerant-Hunter2-password';

// Every line the code can write, debug lines included.
beforeAll(() => useVars({ LOG_LEVEL: 'debug' }));
afterEach(async () => {
  vi.restoreAllMocks();
  await databaseFault('none');
});

function captureLogs(): string[] {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
  }
  return lines;
}

function loggedErrors(lines: string[]): LoggedError[] {
  return lines.flatMap((line) => {
    const parsed = JSON.parse(line) as { error?: unknown };
    return parsed.error && typeof parsed.error === 'object' ? [parsed.error as LoggedError] : [];
  });
}

function expectNoPersonalData(lines: string[], email: string) {
  expect(lines.length).toBeGreaterThan(0);
  const all = lines.join('\n');
  expect(all).not.toContain(email);
  expect(all).not.toContain(email.split('@')[0]!);
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toContain('params:');
  expect(all).not.toContain('command was');
  expect(all).not.toContain('$argon2');
  // Token hashes and HMACs are 43+ base64url characters; nothing else we log is that long unbroken.
  expect(all).not.toMatch(/[A-Za-z0-9_-]{43,}/);
}

function expectNamed(lines: string[], expected: Partial<LoggedError>) {
  expect(loggedErrors(lines)).toContainEqual(expect.objectContaining(expected));
}

interface Flow {
  name: string;
  /** Runs before the fault is injected (accounts, sign-ins); returns what `run` needs. */
  prepare: (email: string) => Promise<Record<string, string>>;
  run: (email: string, env: Env, headers: Record<string, string>) => Promise<Response>;
  status: number;
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  json: body,
  headers: { 'cf-connecting-ip': uniqueIp(), ...headers },
});
const existingAccount = async (email: string) => {
  await createUser({ email, password: PASSWORD });
  return {};
};

const FLOWS: Flow[] = [
  {
    name: 'register',
    prepare: async () => ({}),
    run: (email, env) =>
      api('/register', json({ email, username: `u${Date.now()}`, password: PASSWORD }), env),
    status: 503,
  },
  {
    name: 'login',
    prepare: existingAccount,
    run: (email, env) => api('/login', json({ email, password: PASSWORD }), env),
    status: 503,
  },
  {
    name: 'forget-password',
    prepare: existingAccount,
    run: (email, env) => api('/forget-password', json({ email }), env),
    // The answer never depends on the account (or the database); the work runs after it.
    status: 202,
  },
  {
    name: 'request/login-code',
    prepare: existingAccount,
    run: (email, env) => api('/request/login-code', json({ email }), env),
    status: 202,
  },
  {
    name: 'subscribe',
    prepare: async (email) => {
      await createUser({ email, password: PASSWORD });
      return bearer((await login(email, PASSWORD)).token);
    },
    run: (_email, env, headers) =>
      api('/billing/subscriptions/subscribe', json({ plan_code: 'x' }, headers), env),
    status: 503,
  },
];

describe.each([
  ['5xx', { mode: 'error' }, 'http_500'],
  ['malformed replies', { mode: 'malformed' }, 'invalid_response'],
  ['dropped connections', { mode: 'down' }, 'unreachable'],
  ['no answer within DATABASE_TIMEOUT_MS', { mode: 'slow', delay_ms: 3000 }, 'timeout'],
])('database answering with %s', (_name, fault, code) => {
  it.each(FLOWS)('$name logs kind and code, no personal data', async (flow) => {
    const email = uniqueEmail('db-fault');
    const headers = await flow.prepare(email);
    await databaseFault(fault.mode, fault);
    const lines = captureLogs();
    const response = await flow.run(email, testEnv(), headers);
    expect(response.status).toBe(flow.status);
    expectNoPersonalData(lines, email);
    expectNamed(lines, { kind: 'database', code });
  });

  it('names the statement by verb and table', async () => {
    const email = uniqueEmail('db-operation');
    await databaseFault(fault.mode, fault);
    const lines = captureLogs();
    await FLOWS[0]!.run(email, testEnv(), {});
    await FLOWS[1]!.run(email, testEnv(), {});
    expectNamed(lines, { kind: 'database', operation: 'insert users', code });
    expectNamed(lines, { kind: 'database', operation: 'select users', code });
  });
});

describe.each([
  ['5xx', { mode: 'error' }, 'error_reply'],
  ['malformed replies', { mode: 'malformed' }, 'invalid_response'],
  ['dropped connections', { mode: 'down' }, 'unreachable'],
  ['no answer within the limiter deadline', { mode: 'slow', delay_ms: 3000 }, 'timeout'],
])('Redis answering with %s', (_name, fault, code) => {
  it.each(FLOWS.filter((flow) => flow.name !== 'subscribe'))(
    '$name logs kind and code, no personal data',
    async (flow) => {
      const redis = redisScope('log-faults');
      const email = uniqueEmail('redis-fault');
      const headers = await flow.prepare(email);
      await redis.fault(fault.mode, fault);
      const lines = captureLogs();
      const response = await flow.run(email, redis.env(), headers);
      expect(response.status).toBe(503);
      expectNoPersonalData(lines, email);
      expectNamed(lines, { kind: 'redis', code });
    },
  );
});

describe('Stripe failing while subscribing', () => {
  it.each([
    ['5xx', { mode: 'error' }, 502, 'http_500'],
    ['a dropped connection', { mode: 'down' }, 503, 'unreachable'],
    ['a declined card', { mode: 'card_declined' }, 502, 'card_declined'],
  ])('with %s logs kind, operation and code, no personal data', async (_name, fault, status, code) => {
    const plan = await createPlan();
    const email = uniqueEmail('stripe-fault');
    await createUser({ email, password: PASSWORD });
    const headers = bearer((await login(email, PASSWORD)).token);
    const lines = captureLogs();
    const response = await withStripeFault({ ...fault, match: '/v1/customers' }, () =>
      api('/billing/subscriptions/subscribe', json({ plan_code: plan.code }, headers)),
    );
    expect(response.status).toBe(status);
    expectNoPersonalData(lines, email);
    expectNamed(lines, { kind: 'stripe', operation: 'create the customer', code });
  });
});

describe('mail relay failing', () => {
  it.each([
    ['5xx', 'error', 'http_500'],
    ['a dropped connection', 'down', 'unreachable'],
  ])('with %s logs kind and code, not the recipient', async (_name, mode, code) => {
    const email = uniqueEmail('mail-fault');
    const job = {
      id: crypto.randomUUID(),
      to: email,
      template: 'reset_password',
      data: { username: 'ann', expiresInSeconds: 900 },
      sealedSecret: await seal(bindings.VALIDATION_SECRET_KEY, SEAL_PURPOSE, 'secret-link-token'),
    };
    await mailFault(mode, job.id, { count: 1 });
    const lines = captureLogs();
    const batch = createMessageBatch('edgeauth-email', [
      { id: `msg-${job.id}`, timestamp: new Date(), attempts: 1, body: job },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, testEnv(), ctx);
    expect((await getQueueResult(batch, ctx)).retryMessages).toHaveLength(1);
    expectNoPersonalData(lines, email);
    expectNamed(lines, { kind: 'mail', operation: 'send', code });
  });
});

describe('a query our code got wrong', () => {
  const app = createApp();
  const email = uniqueEmail('bad-query');
  app.get('/test/bad-query', async (c) => {
    await c.var.services.db.execute(sql`select ${email}::int as broken`);
    return c.body(null, 204);
  });

  it('is a 500 logged with its SQLSTATE and stack, never the query parameters', async () => {
    const lines = captureLogs();
    const response = await app.fetch(
      new Request(`${API_ORIGIN}/test/bad-query`),
      testEnv(),
      createExecutionContext(),
    );
    expect(response.status).toBe(500);
    expectNoPersonalData(lines, email);
    expectNamed(lines, { kind: 'database', operation: 'select', code: '22P02' });
  });
});
