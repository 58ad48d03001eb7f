// GET /health: is this Worker able to serve? Checks Postgres and Redis, each with a deadline.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../app-env';
import { AppError } from '../errors';
import { withDeadline } from '../lib/deadline';
import type { Services } from '../services';
import { checkSigningKeys } from '../services/auth/access-tokens';
import { noAuthRequired } from './openapi/helpers';
import { problemResponses } from './openapi/problem-schema';

const CHECK_TIMEOUT_MS = 2000;
const CheckResult = z.enum(['ok', 'down']);
// Names the software, not APP_NAME (which adopters rename): tools such as `npm run smoke` check it to
// know they reached this API and not whatever else listens on the port.
const SERVICE = 'edgeauth';
const HealthSchema = z
  .object({
    status: z.literal('ok'),
    service: z.literal(SERVICE),
    checks: z.object({ database: CheckResult, redis: CheckResult, signing_keys: CheckResult }),
  })
  .openapi('Health');

async function passes(check: () => Promise<unknown>): Promise<'ok' | 'down'> {
  try {
    await withDeadline(check(), CHECK_TIMEOUT_MS);
    return 'ok';
  } catch {
    return 'down';
  }
}

export async function checkHealth({ db, redis, config }: Pick<Services, 'db' | 'redis' | 'config'>) {
  const [database, cache, keys] = await Promise.all([
    passes(() => db.execute(sql`select 1`)),
    passes(() => redis.ping()),
    // A key set that parses but does not sign and verify would fail every sign-in: a deploy's health
    // check must see it.
    passes(() => checkSigningKeys(config)),
  ]);
  return { database, redis: cache, signing_keys: keys };
}

const route = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Operations'],
  summary: 'Liveness and dependency check',
  security: noAuthRequired,
  responses: {
    200: {
      description: 'Postgres and Redis answer, and the access-token keys sign and verify',
      content: { 'application/json': { schema: HealthSchema } },
    },
    ...problemResponses('DEPENDENCY_UNAVAILABLE'),
  },
});

export const healthRoutes = new OpenAPIHono<AppEnv>().openapi(route, async (c) => {
  const checks = await checkHealth(c.var.services);
  const down = Object.entries(checks)
    .filter(([, result]) => result === 'down')
    .map(([name]) => name);
  if (down.length > 0) {
    throw new AppError('DEPENDENCY_UNAVAILABLE', `Unavailable: ${down.join(', ')}`, { checks });
  }
  return c.json(
    {
      status: 'ok' as const,
      service: SERVICE,
      checks: { database: 'ok' as const, redis: 'ok' as const, signing_keys: 'ok' as const },
    },
    200,
  );
});
