// Builds what handlers, the queue consumer and cron jobs share, once per invocation, from validated config.
import { Redis } from '@upstash/redis/cloudflare';
import { createDatabase, type Database } from './db/client';
import { type Config, parseEnv } from './env';
import { type Clock, systemClock } from './lib/clock';

export interface Services {
  config: Config;
  db: Database;
  redis: Redis;
  clock: Clock;
  ctx: ExecutionContext;
}

export function createServices(env: Env, ctx: ExecutionContext): Services {
  const config = parseEnv(env);
  return {
    config,
    db: createDatabase(config),
    redis: new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      // Callers decide how to degrade; the client must not retry for seconds behind their back.
      retry: false,
    }),
    clock: systemClock,
    ctx,
  };
}
