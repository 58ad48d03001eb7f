// What handlers, the queue consumer and cron jobs share. Every outside dependency is a service here,
// behind its own small interface: the clients that hold no request I/O (Redis, Stripe, the rate limiter,
// the OAuth providers, the mail relay, the password hasher) are built once per isolate and configuration;
// the database handle, the queue and the execution context are per invocation.
import { Redis } from '@upstash/redis/cloudflare';
import { createDatabase, type Database } from './db/client';
import { type Config, parseEnv } from './env';
import { type Clock, systemClock } from './lib/clock';
import { setLogLevel } from './lib/log';
import { AuthCache } from './services/auth/auth-cache';
import { PasswordHasher } from './services/auth/password-hasher';
import { createStripeGateway, type StripeGateway } from './services/billing/stripe-client';
import { type EmailJob, enqueueEmail } from './services/mail/jobs';
import { createMailRelay, type MailRelay } from './services/mail/relay';
import { createOAuthProviders, type OAuthProviders } from './services/oauth/providers';
import { createRateLimiter, type RateLimiter } from './services/rate-limiter';

export interface Services {
  config: Config;
  clock: Clock;
  db: Database;
  redis: Redis;
  hasher: PasswordHasher;
  rateLimiter: RateLimiter;
  stripe: StripeGateway;
  oauth: OAuthProviders;
  mailRelay: MailRelay;
  /** Queues an email; `secret` (a link token or code) travels sealed, never in clear. */
  sendEmail: (to: string, job: EmailJob, secret?: string) => Promise<void>;
  deadLetters: Queue;
  ctx: ExecutionContext;
  /** This Worker's (isolate's) session and account cache; see services/auth/auth-cache.ts. */
  authCache: AuthCache;
}

/** What the Worker is built with (src/worker.ts); tests pass a clock they control. */
export interface WorkerOptions {
  clock?: Clock;
  /** Shared by every request the Worker serves; createWorker() makes one. */
  authCache?: AuthCache;
}

type IsolateServices = Pick<Services, 'redis' | 'rateLimiter' | 'stripe' | 'oauth' | 'mailRelay'>;

// Stateless apart from its lazily created WASM instance, which it shares across requests on purpose.
const hasher = new PasswordHasher();
// Keyed by the parsed config, itself cached per env object: one set per isolate in production.
const isolateServices = new WeakMap<Config, IsolateServices>();

function servicesFor(config: Config): IsolateServices {
  let built = isolateServices.get(config);
  if (!built) {
    const redis = new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      // Callers decide how to degrade; the client must not retry for seconds behind their back.
      retry: false,
    });
    built = {
      redis,
      rateLimiter: createRateLimiter(redis),
      stripe: createStripeGateway(config),
      oauth: createOAuthProviders(config),
      mailRelay: createMailRelay(config),
    };
    isolateServices.set(config, built);
  }
  return built;
}

export function createServices(env: Env, ctx: ExecutionContext, options: WorkerOptions = {}): Services {
  const config = parseEnv(env);
  setLogLevel(config.LOG_LEVEL);
  return {
    config,
    clock: options.clock ?? systemClock,
    // Per invocation: the Neon driver keeps its endpoint in a global that each handle sets.
    db: createDatabase(config),
    hasher,
    ...servicesFor(config),
    sendEmail: (to, job, secret) => enqueueEmail(env.EMAIL_QUEUE, config, to, job, secret),
    deadLetters: env.EMAIL_DLQ,
    ctx,
    authCache: options.authCache ?? new AuthCache(),
  };
}
