// HTTP plumbing shared by the local stand-ins (neon-http, upstash, mail-sink): size-limited body reading, JSON
// replies, the favicon, listening, cancellable delays and the fault-injection state. What a fault does is up to
// each server.
import { readFileSync } from 'node:fs';

/** @typedef {{ mode: string, delay_ms: number, count: number | null, match: string | null }} FaultState */

/** Past this multiple of the limit, an oversized body is no longer worth reading just to answer 413. */
const DRAIN_FACTOR = 8;

/**
 * Reads the whole body; null when it exceeds `limit`, so the caller can answer 413. The excess is drained rather
 * than refused: a client cut off mid-upload sees a reset connection instead of that answer.
 * @param {import('node:http').IncomingMessage} req
 * @param {number} limit in bytes
 * @returns {Promise<Buffer | null>}
 */
export function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_FACTOR * limit) req.destroy();
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => reject(new Error('request closed before its body was read')));
  });
}

/**
 * A no-op once the response has started or the client has gone, so error paths may always call it.
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** @type {Buffer | undefined} */
let favicon;

/**
 * The stand-ins' pages are opened in browsers, which ask every origin for /favicon.ico: a grey keyhole, so
 * their tabs are told apart from the API's blue one (public/favicon.ico).
 * @param {import('node:http').ServerResponse} res
 */
export function sendFavicon(res) {
  favicon ??= readFileSync(new URL('./favicon.ico', import.meta.url));
  res
    .writeHead(200, { 'content-type': 'image/x-icon', 'cache-control': 'public, max-age=86400' })
    .end(favicon);
}

/**
 * Rejects when the port cannot be bound instead of leaving an unhandled 'error' event.
 * @param {import('node:http').Server} server
 * @param {number} port
 * @param {string} host
 * @returns {Promise<import('node:net').AddressInfo>}
 */
export function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(/** @type {import('node:net').AddressInfo} */ (server.address()));
    });
  });
}

/**
 * Waits `ms`. The timer is kept in `timers` so that closing the server can clear it: the waiting request is then
 * abandoned along with its connection instead of resuming against a closed backend.
 * @param {number} ms
 * @param {Set<NodeJS.Timeout>} timers
 */
export function delay(ms, timers) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve(undefined);
    }, ms);
    timers.add(timer);
  });
}

/**
 * Test-only fault injection state. `modes` are the faults the server knows how to apply ('none' is always
 * allowed); `count` limits how many requests a fault applies to, after which it reverts to 'none'.
 * `match` scopes a fault to requests carrying that key (a database name, an idempotency key), so tests
 * running in parallel against one shared stand-in do not trip over each other's faults.
 * @param {Iterable<string>} modes
 */
export function createFaults(modes) {
  const allowed = new Set(['none', ...modes]);
  /** @type {FaultState} */
  let state = { mode: 'none', delay_ms: 0, count: null, match: null };
  const snapshot = () => ({ ...state });

  /** @param {{ mode?: string, delay_ms?: number, count?: number | null, match?: string | null }} spec */
  function set(spec) {
    const mode = spec.mode ?? 'none';
    if (!allowed.has(mode)) throw new Error(`unknown fault mode: ${mode}`);
    const count = spec.count ?? null;
    const delayMs = Number(spec.delay_ms ?? 0);
    state = {
      mode,
      delay_ms: Number.isFinite(delayMs) ? Math.max(0, delayMs) : 0,
      count: mode === 'none' || count === null ? null : Math.max(0, Math.floor(count)),
      match: mode === 'none' || typeof spec.match !== 'string' ? null : spec.match,
    };
    return snapshot();
  }

  return {
    get state() {
      return snapshot();
    },
    set,
    reset: () => set({ mode: 'none' }),
    /**
     * Consumes one application of the current fault, if any applies to a request with this key.
     * @param {string | undefined} [key] @returns {FaultState | null}
     */
    take(key) {
      if (state.mode === 'none' || state.count === 0) return null;
      if (state.match !== null && state.match !== key) return null;
      const taken = snapshot();
      if (state.count !== null && --state.count === 0)
        state = { mode: 'none', delay_ms: 0, count: null, match: null };
      return taken;
    },
  };
}
