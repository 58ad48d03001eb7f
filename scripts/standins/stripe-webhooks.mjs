// Webhook delivery of the Stripe stand-in: events signed as Stripe signs them, posted with retries.
import { createHmac } from 'node:crypto';
import { createFaults, delay } from './http-kit.mjs';

/** @typedef {import('./stripe-wire.mjs').Obj} Obj */
/** @typedef {import('./stripe-wire.mjs').Store} Store */
/** @typedef {import('./stripe-wire.mjs').Call} Call */
/** @typedef {{ event: string, type: string, delivered: boolean, attempts: number, status: number | null,
 *   error: string | null }} Delivery */
/** @typedef {{ S: Store, faults: ReturnType<typeof createFaults>, timers: Set<NodeJS.Timeout>,
 *   log: (line: string) => void, deliver: (events: Obj[]) => Promise<Delivery[]> }} Context */

/** Short, so a test whose receiver fails on purpose is not held up; Stripe itself retries for days. */
const WEBHOOK_RETRY_DELAYS_MS = [100, 500, 2000];
const WEBHOOK_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------------------------
// Webhook delivery.

/**
 * `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`, what `stripe.webhooks.constructEventAsync` verifies. The
 * timestamp is real time, not stand-in time: receivers reject signatures more than 5 minutes off their own clock.
 * @param {string} payload @param {string} secret @param {number} [timestamp]
 */
export function signatureHeader(payload, secret, timestamp = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/**
 * Delivers events one at a time in the order they were emitted, each retried with short backoff on a non-2xx
 * answer or an unreachable receiver.
 * @param {{ S: Store, secret: string, timers: Set<NodeJS.Timeout>, log: (line: string) => void }} options
 */
export function createDelivery({ S, secret, timers, log }) {
  let queue = Promise.resolve();
  const controller = new AbortController();

  /** @param {Obj} event @returns {Promise<Delivery>} */
  async function deliverOne(event) {
    /** @type {Delivery} */
    const result = {
      event: event.id,
      type: event.type,
      delivered: false,
      attempts: 0,
      status: null,
      error: null,
    };
    const url = S.webhookUrl;
    if (!url) return { ...result, error: 'no webhook URL configured' };
    const payload = JSON.stringify(event, null, 2);
    for (
      let attempt = 0;
      attempt <= WEBHOOK_RETRY_DELAYS_MS.length && !controller.signal.aborted;
      attempt++
    ) {
      if (attempt > 0) await delay(WEBHOOK_RETRY_DELAYS_MS[attempt - 1], timers);
      result.attempts++;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'stripe-signature': signatureHeader(payload, secret),
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          },
          body: payload,
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
        });
        await response.arrayBuffer().catch(() => {});
        result.status = response.status;
        result.error = response.ok ? null : `HTTP ${response.status}`;
      } catch (error) {
        result.error = /** @type {Error} */ (error).message;
      }
      log(`stripe stand-in: webhook ${event.type} ${event.id} → ${result.error ?? result.status}`);
      if (result.error === null) {
        event.pending_webhooks = 0;
        return { ...result, delivered: true };
      }
    }
    return result;
  }

  return {
    /** @param {Obj[]} events @returns {Promise<Delivery[]>} */
    deliver(events) {
      const run = queue.then(async () => {
        const results = [];
        for (const event of events) results.push(await deliverOne(event));
        return results;
      });
      queue = run.then(
        () => {},
        () => {},
      );
      return run;
    },
    stop: () => controller.abort(),
  };
}
