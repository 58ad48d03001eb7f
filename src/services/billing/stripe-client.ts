// The Stripe SDK configured for workerd (fetch client, SubtleCrypto for webhooks), optionally pointed at a
// local stand-in through STRIPE_API_BASE, plus one place that turns Stripe failures into problems.
import Stripe from 'stripe';
import type { Config } from '../../env';
import { AppError } from '../../errors';
import { log } from '../../lib/log';
import { describeError } from '../../lib/log-error';

type StripeConfig = Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'>;

export interface StripeGateway {
  /** The SDK client; 503 FEATURE_NOT_CONFIGURED when STRIPE_SECRET_KEY is unset. */
  client(): Stripe;
  /** The event payload of a delivery whose signature checks out on the raw body; throws otherwise. */
  verifyWebhook(rawBody: string, signature: string, secret: string): Promise<unknown>;
}

const webhookCrypto = Stripe.createSubtleCryptoProvider();

export function createStripeGateway(config: StripeConfig): StripeGateway {
  let client: Stripe | undefined;
  const gateway: StripeGateway = {
    client() {
      if (!config.STRIPE_SECRET_KEY)
        throw new AppError('FEATURE_NOT_CONFIGURED', 'Billing is not configured');
      if (!client) {
        const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : null;
        client = new Stripe(config.STRIPE_SECRET_KEY, {
          httpClient: Stripe.createFetchHttpClient(),
          maxNetworkRetries: 1,
          timeout: 10_000,
          ...(base
            ? {
                host: base.hostname,
                port: base.port || undefined,
                protocol: base.protocol.replace(':', '') as 'http' | 'https',
              }
            : {}),
        });
      }
      return client;
    },
    // The default 300 s tolerance refuses a replay of an old, validly signed delivery.
    verifyWebhook: (rawBody, signature, secret) =>
      gateway.client().webhooks.constructEventAsync(rawBody, signature, secret, undefined, webhookCrypto),
  };
  return gateway;
}

/**
 * A Stripe idempotency key for one logical write: the same parts give the same key, so a retried
 * request (ours or the SDK's) never creates a second object. Hashed to stay under Stripe's 255 chars.
 */
export async function idempotencyKey(kind: string, ...parts: unknown[]): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(parts)));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${kind}:${hex.slice(0, 40)}`;
}

/** A failed Stripe call as a problem: 503 when Stripe could not be reached, else 502. */
export function stripeFailure(what: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  log('warn', 'stripe call failed', {
    error: describeError(error, { dependency: 'stripe', operation: what }),
  });
  if (error instanceof Stripe.errors.StripeConnectionError) {
    return new AppError('DEPENDENCY_UNAVAILABLE', `Stripe could not be reached (${what})`);
  }
  const message = error instanceof Stripe.errors.StripeError ? error.message : 'unexpected error';
  return new AppError('PROVIDER_ERROR', `Stripe refused to ${what}: ${message}`);
}

/** True when Stripe answered that the object does not exist (not in this account and mode). */
export function isMissingAtStripe(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.statusCode === 404 &&
    error.code === 'resource_missing'
  );
}

/** Runs a Stripe call; any failure becomes a 502 (or 503 when Stripe could not be reached). */
export async function callStripe<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw stripeFailure(what, error);
  }
}
