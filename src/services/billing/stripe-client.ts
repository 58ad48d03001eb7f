// The Stripe client (stripe-api.ts) as configured here, optionally pointed at a local stand-in through
// STRIPE_API_BASE, the webhook signature check, and one place that turns Stripe failures into problems.
import type { Config } from '../../env';
import { AppError } from '../../errors';
import { sha256Hex } from '../../lib/crypto';
import { log } from '../../lib/log';
import { describeError } from '../../lib/log-error';
import {
  createStripeApi,
  isInvalidRequest,
  type StripeApi,
  StripeApiError,
  StripeConnectionError,
  verifyStripeSignature,
} from './stripe-api';

type StripeConfig = Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'>;

export interface StripeGateway {
  /** The API client; 503 FEATURE_NOT_CONFIGURED when STRIPE_SECRET_KEY is unset. */
  client(): StripeApi;
  /** The event payload of a delivery whose signature checks out on the raw body; throws otherwise. */
  verifyWebhook(rawBody: string, signature: string, secret: string): Promise<unknown>;
}

export function createStripeGateway(config: StripeConfig): StripeGateway {
  let client: StripeApi | undefined;
  return {
    client() {
      if (!config.STRIPE_SECRET_KEY)
        throw new AppError('FEATURE_NOT_CONFIGURED', 'Billing is not configured');
      client ??= createStripeApi({
        secretKey: config.STRIPE_SECRET_KEY,
        ...(config.STRIPE_API_BASE ? { apiBase: config.STRIPE_API_BASE } : {}),
      });
      return client;
    },
    // The 300 s tolerance refuses a replay of an old, validly signed delivery.
    verifyWebhook: (rawBody, signature, secret) => verifyStripeSignature(rawBody, signature, secret),
  };
}

/**
 * A Stripe idempotency key for one logical write: the same parts give the same key, so a retried
 * request (ours or the client's) never creates a second object. Hashed to stay under Stripe's 255 chars.
 */
export async function idempotencyKey(kind: string, ...parts: unknown[]): Promise<string> {
  return `${kind}:${(await sha256Hex(JSON.stringify(parts))).slice(0, 40)}`;
}

/** A failed Stripe call as a problem: 503 when Stripe could not be reached, else 502. */
export function stripeFailure(what: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  log('warn', 'stripe call failed', {
    error: describeError(error, { dependency: 'stripe', operation: what }),
  });
  if (error instanceof StripeConnectionError) {
    return new AppError('DEPENDENCY_UNAVAILABLE', `Stripe could not be reached (${what})`);
  }
  const message = error instanceof StripeApiError ? error.message : 'unexpected error';
  return new AppError('PROVIDER_ERROR', `Stripe refused to ${what}: ${message}`);
}

/** True when Stripe answered that the object does not exist (not in this account and mode). */
export function isMissingAtStripe(error: unknown): boolean {
  return isInvalidRequest(error, 'resource_missing') && error.statusCode === 404;
}

/** Runs a Stripe call; any failure becomes a 502 (or 503 when Stripe could not be reached). */
export async function callStripe<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw stripeFailure(what, error);
  }
}
