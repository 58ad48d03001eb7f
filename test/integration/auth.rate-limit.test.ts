// Rate limits on the sensitive auth routes (per client IP and per email), their headers, and failing
// closed when Redis cannot answer while routes that do not need Redis keep working.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { emailTokens, sessions, users } from '../../src/db/schema';
import { PER_IDENTIFIER_FACTOR, PER_IP_FACTOR } from '../../src/middleware/rate-limit';
import { bearer, createUser, db, PASSWORD, uniqueEmail, uniqueIp } from '../support/accounts';
import { expectProblem } from '../support/problem';
import { api, testEnv } from '../support/worker';

const LIMIT = 3;
// Long enough that a test never straddles two windows: @upstash/ratelimit's sliding window weighs the
// previous fixed window, so a test crossing a boundary would see different counts.
const WINDOW_SECONDS = 3600;
const limited = () =>
  testEnv({ RATE_LIMIT_MAX: String(LIMIT), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) });
// Nothing listens on the discard port: every Redis call fails at once.
const redisDown = () => testEnv({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });

function post(path: string, json: unknown, ip: string, env: Env) {
  return api(path, { method: 'POST', json, headers: { 'cf-connecting-ip': ip } }, env);
}

const login = (email: string, ip: string, env: Env, password = PASSWORD) =>
  post('/login', { email, password }, ip, env);

const register = (email: string, ip: string, env: Env) =>
  post(
    '/register',
    { email, username: `r${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`, password: PASSWORD },
    ip,
    env,
  );

const forgetPassword = (email: string, ip: string, env: Env) => post('/forget-password', { email }, ip, env);

/** A response the limiter let through carries the limit, what is left, and when the window resets. */
function expectLimitHeaders(response: Response, remaining: number) {
  expect(response.headers.get('ratelimit-limit')).toBe(String(LIMIT));
  expect(response.headers.get('ratelimit-remaining')).toBe(String(remaining));
  const reset = Number(response.headers.get('ratelimit-reset'));
  expect(Number.isInteger(reset)).toBe(true);
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(WINDOW_SECONDS);
}

async function expectRateLimited(response: Response) {
  const problem = await expectProblem(response, 429, 'RATE_LIMITED');
  expect(problem.detail).toBe('Too many requests; try again later');
  expectLimitHeaders(response, 0);
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(response.headers.get('retry-after')).toBe(response.headers.get('ratelimit-reset'));
}

async function expectRedisUnavailable(response: Response) {
  const problem = await expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
  expect(problem.detail).toBe('Rate limiting is unavailable; try again shortly');
  expect(response.headers.get('ratelimit-limit')).toBeNull();
}

describe('POST /login', () => {
  it('refuses the 4th attempt at one email from one IP with 429 RATE_LIMITED, even with the right password', async () => {
    const env = limited();
    const ip = uniqueIp();
    const user = await createUser();
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      const response = await login(user.email, ip, env, 'wrong password');
      await expectProblem(response, 401, 'INVALID_CREDENTIALS');
      expectLimitHeaders(response, LIMIT - attempt);
    }
    await expectRateLimited(await login(user.email, ip, env));
    await expectRateLimited(await login(` ${user.email.toUpperCase()}`, ip, env));
    // The refusal came before the password check: no session was started.
    expect(await db().select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
  });

  it('sends RateLimit-* headers with a decreasing Remaining on successful logins', async () => {
    const env = limited();
    const ip = uniqueIp();
    const user = await createUser();
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      const response = await login(user.email, ip, env);
      expect(response.status).toBe(200);
      expectLimitHeaders(response, LIMIT - attempt);
    }
  });

  it('does not lock the owner out when strangers exhaust their own attempts at the email', async () => {
    const env = limited();
    const user = await createUser();
    for (const stranger of [uniqueIp(), uniqueIp()]) {
      for (let attempt = 1; attempt <= LIMIT; attempt++) {
        await expectProblem(await login(user.email, stranger, env, 'guess'), 401, 'INVALID_CREDENTIALS');
      }
      await expectRateLimited(await login(user.email, stranger, env, 'guess'));
    }
    expect((await login(user.email, uniqueIp(), env)).status).toBe(200);
  });

  it('limits one email from anywhere at a higher ceiling (4x)', async () => {
    const env = limited();
    const user = await createUser();
    for (let attempt = 1; attempt <= LIMIT * PER_IDENTIFIER_FACTOR; attempt++) {
      const response = await login(user.email, uniqueIp(), env, 'guess');
      await expectProblem(response, 401, 'INVALID_CREDENTIALS');
    }
    const refused = await login(user.email, uniqueIp(), env);
    await expectProblem(refused, 429, 'RATE_LIMITED');
    expect(refused.headers.get('ratelimit-limit')).toBe(String(LIMIT * PER_IDENTIFIER_FACTOR));
  });

  it('lets one IP (an office behind a NAT) sign in many people, up to a much higher ceiling', async () => {
    const env = limited();
    const office = uniqueIp();
    for (let colleague = 0; colleague < LIMIT * 3; colleague++) {
      expect((await login((await createUser()).email, office, env)).status).toBe(200);
    }
  });
});

describe('POST /forget-password', () => {
  it('refuses the 4th request for one email from one IP', async () => {
    const env = limited();
    const ip = uniqueIp();
    const email = uniqueEmail('forgot');
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      const response = await forgetPassword(email, ip, env);
      expect(response.status).toBe(202);
      expectLimitHeaders(response, LIMIT - attempt);
    }
    await expectRateLimited(await forgetPassword(email, ip, env));
  });
});

describe('POST /register', () => {
  it('refuses registrations from one IP past its ceiling (20x) and creates no account for them', async () => {
    const env = limited();
    const ip = uniqueIp();
    for (let attempt = 1; attempt <= LIMIT * PER_IP_FACTOR; attempt++) {
      expect((await register(uniqueEmail('signup'), ip, env)).status).toBe(201);
    }
    const refusedEmail = uniqueEmail('signup');
    const refused = await register(refusedEmail, ip, env);
    await expectProblem(refused, 429, 'RATE_LIMITED');
    expect(refused.headers.get('ratelimit-limit')).toBe(String(LIMIT * PER_IP_FACTOR));
    expect(await db().select().from(users).where(eq(users.email, refusedEmail))).toEqual([]);
  });
});

describe('POST /refresh-token', () => {
  const env = () =>
    testEnv({ REFRESH_RATE_LIMIT_MAX: String(LIMIT), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) });
  const nativeSession = async (ip: string) => {
    const user = await createUser();
    const response = await api('/login', {
      method: 'POST',
      json: { email: user.email, password: PASSWORD },
      headers: { 'cf-connecting-ip': ip, 'x-refresh-token-transport': 'body' },
    });
    return ((await response.json()) as { refresh_token: string }).refresh_token;
  };
  const refresh = async (token: string, ip: string) => {
    const response = await post('/refresh-token', { refresh_token: token }, ip, env());
    const body = (await response.clone().json()) as { refresh_token?: string };
    return { response, next: body.refresh_token ?? token };
  };

  it('limits one session wherever it comes from, and not the other sessions behind the same IP', async () => {
    const office = uniqueIp();
    let token = await nativeSession(office);
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      const { response, next } = await refresh(token, uniqueIp());
      expect(response.status).toBe(200);
      token = next;
    }
    await expectRateLimited((await refresh(token, uniqueIp())).response);
    // Ten colleagues behind the office's one address refresh as often as they need.
    for (let colleague = 0; colleague < 10; colleague++) {
      expect((await refresh(await nativeSession(office), office)).response.status).toBe(200);
    }
  });

  it('refuses a forged token with 401 before any limit or database work', async () => {
    const forged = `${crypto.randomUUID()}.${'A'.repeat(43)}.${'B'.repeat(22)}`;
    for (let attempt = 0; attempt <= LIMIT + 1; attempt++) {
      const { response } = await refresh(forged, uniqueIp());
      await expectProblem(response, 401, 'INVALID_REFRESH_TOKEN');
      expect(response.headers.get('ratelimit-limit')).toBeNull();
    }
  });
});

describe('when Redis is unreachable the limited routes fail closed', () => {
  it('POST /login answers 503 DEPENDENCY_UNAVAILABLE and starts no session', async () => {
    const user = await createUser();
    await expectRedisUnavailable(await login(user.email, uniqueIp(), redisDown()));
    expect(await db().select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
  });

  it('POST /register answers 503 and creates no account', async () => {
    const email = uniqueEmail('down');
    await expectRedisUnavailable(await register(email, uniqueIp(), redisDown()));
    expect(await db().select().from(users).where(eq(users.email, email))).toEqual([]);
  });

  it('POST /forget-password answers 503 and issues no reset token', async () => {
    const user = await createUser();
    await expectRedisUnavailable(await forgetPassword(user.email, uniqueIp(), redisDown()));
    expect(await db().select().from(emailTokens).where(eq(emailTokens.userId, user.id))).toEqual([]);
  });

  it('POST /refresh-token answers 503 and leaves the refresh token unused', async () => {
    const user = await createUser();
    const signedIn = await api('/login', {
      method: 'POST',
      json: { email: user.email, password: PASSWORD },
      headers: { 'cf-connecting-ip': uniqueIp(), 'x-refresh-token-transport': 'body' },
    });
    const { refresh_token } = (await signedIn.json()) as { refresh_token: string };
    await expectRedisUnavailable(await post('/refresh-token', { refresh_token }, uniqueIp(), redisDown()));
    expect((await post('/refresh-token', { refresh_token }, uniqueIp(), testEnv())).status).toBe(200);
  });

  it('answers 503 as well when Redis refuses our credentials', async () => {
    const user = await createUser();
    const env = testEnv({ UPSTASH_REDIS_REST_TOKEN: 'not-the-token' });
    await expectRedisUnavailable(await login(user.email, uniqueIp(), env));
  });

  it('routes that do not need Redis keep answering: GET /me, POST /logout, GET /openapi.json', async () => {
    const user = await createUser();
    const signedIn = await login(user.email, uniqueIp(), testEnv());
    const { token } = (await signedIn.json()) as { token: string };
    const env = redisDown();

    const me = await api('/me', { headers: bearer(token) }, env);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { id: user.id, email: user.email } });

    const openapi = await api('/openapi.json', {}, env);
    expect(openapi.status).toBe(200);
    expect(openapi.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await openapi.json()).toMatchObject({ openapi: '3.1.0' });

    const logout = await api('/logout', { method: 'POST', headers: bearer(token) }, env);
    expect(logout.status).toBe(204);
  });
});
