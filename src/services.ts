// Builds what handlers, the queue consumer and cron jobs share, once per invocation, from validated config.
import { Redis } from '@upstash/redis/cloudflare';
import { createDatabase, type Database } from './db/client';
import { type Config, clockFrom, parseEnv } from './env';
import type { Clock } from './lib/clock';
import { PasswordHasher } from './services/auth/password-hasher';
import { type EmailJob, enqueueEmail } from './services/mail/jobs';

export interface Services {
  config: Config;
  db: Database;
  redis: Redis;
  clock: Clock;
  hasher: PasswordHasher;
  /** Queues an email; `secret` (a link token or code) travels sealed, never in clear. */
  sendEmail: (to: string, job: EmailJob, secret?: string) => Promise<void>;
  deadLetters: Queue;
  ctx: ExecutionContext;
}

// Stateless apart from its lazily created WASM instance, which it shares across requests on purpose.
const hasher = new PasswordHasher();

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
    clock: clockFrom(env),
    hasher,
    sendEmail: (to, job, secret) => enqueueEmail(env.EMAIL_QUEUE, config, to, job, secret),
    deadLetters: env.EMAIL_DLQ,
    ctx,
  };
}
