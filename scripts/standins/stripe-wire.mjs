// Stripe stand-in plumbing shared by its resources: Stripe-shaped errors, bracket-notation form parsing, ids, the
// in-memory store with Stripe's list pagination and `expand`, and event recording.
import { randomBytes } from 'node:crypto';

/** @typedef {Record<string, any>} Obj A Stripe-shaped object, or a parsed form body. */

/** The version stripe@23.1.0 pins; objects below are laid out as that version lays them out. */
export const API_VERSION = '2026-10-28.endive';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** An error answered in Stripe's shape; the SDK picks its error class from the status and `type`. */
export class StripeError extends Error {
  /** @param {number} status @param {string} message @param {{ type?: string, param?: string, code?: string,
   *   decline_code?: string }} [details] */
  constructor(status, message, details = {}) {
    super(message);
    this.status = status;
    this.details = details;
  }

  toJSON() {
    const { type = 'invalid_request_error', ...rest } = this.details;
    return { error: { type, message: this.message, ...rest } };
  }
}

/** @param {string} param */
export const missing = (param) =>
  new StripeError(400, `Missing required param: ${param}.`, { param, code: 'parameter_missing' });
/** @param {string} message @param {string} [param] */
export const invalid = (message, param) =>
  new StripeError(400, message, { param, code: 'parameter_invalid' });
/** @param {string} kind @param {string} id @param {string} [param] */
export const noSuch = (kind, id, param = 'id') =>
  new StripeError(404, `No such ${kind}: '${id}'`, { param, code: 'resource_missing' });

/** @param {string} prefix @param {number} [length] */
export function newId(prefix, length = 24) {
  let id = '';
  for (const byte of randomBytes(length)) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return `${prefix}_${id}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Wire format: bracket-notation form bodies in, typed values out.

/**
 * Parses `a[b][0][c]=v` and `a[]=v` into nested objects and arrays, the way Stripe reads form bodies and queries.
 * @param {string} text
 */
export function parseForm(text) {
  const root = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const head = key.split('[', 1)[0];
    const path = [head, ...[...key.slice(head.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1])];
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] === '' ? String(Object.keys(node).length) : path[i];
      if (segment === '__proto__') break;
      if (i === path.length - 1) node[segment] = value;
      else {
        if (typeof node[segment] !== 'object') node[segment] = Object.create(null);
        node = node[segment];
      }
    }
  }
  return toPlain(root);
}

/** Objects whose keys are all indexes become arrays: the SDK sends `items[0][price]`, curl users `expand[]`. */
function toPlain(/** @type {any} */ node) {
  if (typeof node !== 'object') return node;
  const keys = Object.keys(node);
  if (keys.length > 0 && keys.every((key) => /^\d+$/.test(key))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((key) => toPlain(node[key]));
  }
  return Object.fromEntries(keys.map((key) => [key, toPlain(node[key])]));
}

/** @param {unknown} value @param {string} param */
export function readString(value, param) {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${param}`, param);
  return value;
}

/** @param {unknown} value @param {string} param @returns {number | undefined} */
export function readInt(value, param) {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${value}`, param);
  return Number(value);
}

/** @param {unknown} value @param {string} param @returns {boolean | undefined} */
export function readBool(value, param) {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw invalid(`Invalid boolean: ${value}`, param);
}

/** @template T @param {T | undefined} value @param {string} param @returns {T} */
export function required(value, param) {
  if (value === undefined || value === '') throw missing(param);
  return value;
}

/**
 * Stripe's metadata update rules: an empty value deletes that key, an empty `metadata` clears them all.
 * @param {Obj} current @param {unknown} patch @param {string} [param]
 */
export function applyMetadata(current, patch, param = 'metadata') {
  if (patch === undefined) return current;
  if (patch === '') return {};
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw invalid('Invalid object', param);
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (typeof value !== 'string') throw invalid('Invalid metadata value', `${param}[${key}]`);
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

/** @param {unknown} value @param {string} param */
export function readUrl(value, param) {
  const text = readString(value, param);
  if (text === undefined) return undefined;
  if (!URL.canParse(text)) throw invalid('Not a valid URL', param);
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// The store: every object in one map by id (ids are unique across types), in creation order.

/**
 * @param {{ host: string, port: number, webhookUrl?: string,
 *   virtual?: Record<string, (S: any, object: Obj) => Obj> }} options
 *   `virtual` maps `<object type>.<field>` to fields that exist only when expanded (a session's `line_items`).
 */
export function createStore({ host, port, webhookUrl, virtual = {} }) {
  return {
    host,
    port,
    webhookUrl,
    virtual,
    /** @type {Map<string, Obj>} */
    byId: new Map(),
    /** Stand-in-only facts about an object (a session's line items, a subscription's pending prorations). */
    /** @type {Map<string, Obj>} */
    extra: new Map(),
    clockOffset: 0,
    /** @type {Obj[]} */
    requests: [],
    requestSeq: 0,
    /** @type {Map<string, { fingerprint: string, status: number, body: unknown }>} */
    idempotency: new Map(),
    /** @type {Set<string>} */
    inFlight: new Set(),
  };
}
/** @typedef {ReturnType<typeof createStore>} Store */

/** A call as handlers see it; `events` collects what it emitted, delivered once the response has gone. */
/** @typedef {{ params: Obj, ids: string[], request: { id: string | null, idempotency_key: string | null },
 *   events: Obj[] }} Call */

/** A call made by the stand-in itself (a checkout page, a test control): Stripe marks its events automatic. */
export function internalCall() {
  return /** @type {Call} */ ({
    params: {},
    ids: [],
    request: { id: null, idempotency_key: null },
    events: [],
  });
}

/** @param {{ host: string, port: number }} S */
export function baseUrl({ host, port }) {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stand-in time: real time moved by /_standin/clock, so tests can reach period ends. @param {Store} S */
export const now = (S) => Math.floor(Date.now() / 1000) + S.clockOffset;

/** @param {Store} S @param {Obj} object */
export function put(S, object) {
  S.byId.set(object.id, object);
  return object;
}

/** @param {Store} S @param {string} type @param {string} kind @param {unknown} id @param {string} [param] */
export function get(S, type, kind, id, param) {
  const object = typeof id === 'string' ? S.byId.get(id) : undefined;
  if (!object || object.object !== type) throw noSuch(kind, String(id), param);
  return object;
}

/**
 * Lists newest first with Stripe's cursor pagination.
 * @param {Store} S @param {string} type @param {string} url @param {Obj} params @param {(o: Obj) => boolean} [keep]
 */
export function list(S, type, url, params, keep = () => true) {
  const limit = readInt(params.limit, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalid('Limit must be between 1 and 100.', 'limit');
  let items = [...S.byId.values()].filter((o) => o.object === type && keep(o)).reverse();
  let hasMore;
  if (params.ending_before) {
    const end = items.findIndex((o) => o.id === params.ending_before);
    if (end < 0) throw noSuch(type, params.ending_before, 'ending_before');
    hasMore = end > limit;
    items = items.slice(Math.max(0, end - limit), end);
  } else {
    if (params.starting_after) {
      const start = items.findIndex((o) => o.id === params.starting_after);
      if (start < 0) throw noSuch(type, params.starting_after, 'starting_after');
      items = items.slice(start + 1);
    }
    hasMore = items.length > limit;
    items = items.slice(0, limit);
  }
  return { object: 'list', data: items, has_more: hasMore, url };
}

/** @param {unknown} expected @param {unknown} actual */
export const matches = (expected, actual) => expected === undefined || expected === actual;

/**
 * Replaces ids with their objects along each `expand` path (`customer`, `data.subscription`,
 * `parent.subscription_details.subscription`), the way Stripe's `expand[]` does.
 * @param {Store} S @param {unknown} value @param {string[]} path
 * @returns {any}
 */
function expandPath(S, value, path) {
  if (path.length === 0 || value === null || typeof value !== 'object') return value;
  const [head, ...rest] = path;
  const object = /** @type {Obj} */ (value);
  if (object.object === 'list' && head === 'data') {
    return { ...object, data: object.data.map((/** @type {Obj} */ item) => expandPath(S, item, rest)) };
  }
  let child = head in object ? object[head] : S.virtual[`${object.object}.${head}`]?.(S, object);
  if (typeof child === 'string') child = S.byId.get(child);
  if (child === undefined || (child !== null && typeof child !== 'object')) {
    throw invalid(`This property cannot be expanded (${head}).`, 'expand');
  }
  return { ...object, [head]: expandPath(S, child, rest) };
}

/** @param {Store} S @param {unknown} body @param {unknown} expand */
export function applyExpand(S, body, expand) {
  if (expand === undefined) return body;
  const paths = Array.isArray(expand) ? expand : [expand];
  return paths.reduce((acc, path) => expandPath(S, acc, String(path).split('.')), body);
}

/**
 * Records an event the way Stripe does: a snapshot of the object as it is now, `previous_attributes` for updates.
 * @param {Store} S @param {Call} call @param {string} type @param {Obj} object @param {Obj} [previous]
 */
export function emit(S, call, type, object, previous) {
  const data = { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) };
  const event = put(S, {
    id: newId('evt', 24),
    object: 'event',
    api_version: API_VERSION,
    created: now(S),
    data,
    livemode: false,
    pending_webhooks: S.webhookUrl ? 1 : 0,
    request: { ...call.request },
    type,
  });
  call.events.push(event);
  return event;
}

/**
 * What changed between two snapshots of an object, as `previous_attributes` lists it: old values of changed keys.
 * @param {Obj} before @param {Obj} after
 */
export function changedAttributes(before, after) {
  /** @type {Obj} */
  const previous = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key] ?? null;
  }
  return previous;
}
