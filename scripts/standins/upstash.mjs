// Local stand-in for the Upstash Redis REST API (POST /, /pipeline, /multi-exec) as spoken by @upstash/redis,
// backed by a real Redis or an isolated in-memory engine (upstash-backends.mjs); plus /_standin/ fault-injection
// routes.
import http from 'node:http';
import { createFaults, delay, listen, readBody, sendJson } from './http-kit.mjs';
import { connectRedis, createCommandRunner, createEmbedded } from './upstash-backends.mjs';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const FAULT_MODES = ['down', 'slow', 'error', 'malformed'];

/**
 * A backend reply: strings or raw bytes, integers, nil, and (nested) arrays; ioredis-mock adds objects and booleans.
 * @typedef {string | Buffer | number | boolean | null | undefined | unknown[] | Record<string, unknown>} Reply
 * @typedef {{ result: Reply } | { error: string }} Outcome
 * @typedef {{
 *   kind: 'embedded' | 'redis',
 *   call(cmd: string[]): Promise<Reply>,
 *   transaction(cmds: string[][]): Promise<Outcome[]>,
 *   flush(): Promise<unknown>,
 *   close(): Promise<void>,
 * }} Backend
 */

/** An error the client caused (HTTP 400), as opposed to the backend being unreachable (HTTP 500). */
export class CommandError extends Error {}

/**
 * Start the stand-in. Without `redisUrl` it keeps its data in memory, isolated from every other instance.
 * @param {{ port?: number, host?: string, redisUrl?: string, token?: string, log?: (msg: string) => void }} [options]
 */
export async function startUpstash({
  port = 0,
  host = '127.0.0.1',
  redisUrl,
  token = 'local-upstash-token',
  log = () => {},
} = {}) {
  const backend = redisUrl ? await connectRedis(redisUrl, log) : createEmbedded();
  const commands = createCommandRunner(backend);
  const faults = createFaults(FAULT_MODES);
  const timers = new Set();
  const server = http.createServer((req, res) => {
    handleRequest(req, res, { commands, backend, faults, token, timers, log }).catch((err) => {
      if (res.destroyed) return; // the client went away mid-request
      log(`upstash stand-in: internal error: ${err?.stack ?? err}`);
      sendJson(res, 500, { error: 'internal stand-in error' });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  const address = await listen(server, port, host).catch(async (err) => {
    await backend.close();
    throw err;
  });
  const url = `http://${formatHost(host)}:${address.port}`;
  log(`upstash stand-in (${backend.kind}) listening on ${url}`);

  return {
    url,
    port: address.port,
    token,
    backend: backend.kind,
    faults,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
      await backend.close();
    },
  };
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {{ commands: ReturnType<typeof createCommandRunner>, backend: Backend, faults: ReturnType<typeof createFaults>,
 *   token: string, timers: Set<NodeJS.Timeout>, log: (msg: string) => void }} ctx
 */
async function handleRequest(req, res, ctx) {
  const path = pathOf(req.url);
  if (path.startsWith('/_standin/')) return handleAdmin(req, res, path, ctx);

  const endpoint = { '/': 'single', '/pipeline': 'pipeline', '/multi-exec': 'transaction' }[path];
  if (!endpoint) return sendJson(res, 404, { error: 'Not Found' });
  if (await injectFault(req, res, ctx)) return;
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed' });
  if (!isAuthorized(req, ctx.token)) return sendJson(res, 401, { error: 'Unauthorized' });

  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === null) return sendJson(res, 413, { error: 'ERR request body too large' });
  const parsed = parseCommands(body, endpoint !== 'single');
  if ('error' in parsed) return sendJson(res, 400, { error: parsed.error });

  const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
  if (endpoint === 'single')
    return sendSingle(res, await settle(ctx.commands.run(parsed.commands[0])), base64);
  if (endpoint === 'pipeline') return sendOutcomes(res, await ctx.commands.pipeline(parsed.commands), base64);
  return sendTransaction(res, ctx.commands.transaction(parsed.commands), base64);
}

/**
 * @param {http.ServerResponse} res
 * @param {Outcome | { failure: Error }} outcome
 * @param {boolean} base64
 */
function sendSingle(res, outcome, base64) {
  if ('failure' in outcome) return sendFailure(res, outcome.failure);
  if ('error' in outcome) return sendJson(res, 400, outcome);
  sendJson(res, 200, { result: encodeReply(outcome.result, base64, true) });
}

/** @param {http.ServerResponse} res @param {Outcome[]} outcomes @param {boolean} base64 */
function sendOutcomes(res, outcomes, base64) {
  sendJson(
    res,
    200,
    outcomes.map((o) => ('error' in o ? o : { result: encodeReply(o.result, base64, true) })),
  );
}

/** @param {http.ServerResponse} res @param {Promise<Outcome[]>} pending @param {boolean} base64 */
async function sendTransaction(res, pending, base64) {
  try {
    sendOutcomes(res, await pending, base64);
  } catch (err) {
    sendFailure(res, /** @type {Error} */ (err));
  }
}

/** @param {http.ServerResponse} res @param {Error} err */
function sendFailure(res, err) {
  sendJson(res, err instanceof CommandError ? 400 : 500, { error: err.message });
}

/** @template T @param {Promise<T>} promise @returns {Promise<Outcome | { failure: Error }>} */
export async function settle(promise) {
  try {
    return { result: /** @type {Reply} */ (await promise) };
  } catch (err) {
    return err instanceof CommandError ? { error: err.message } : { failure: /** @type {Error} */ (err) };
  }
}

/**
 * @param {Buffer} body
 * @param {boolean} many
 * @returns {{ commands: string[][] } | { error: string }}
 */
function parseCommands(body, many) {
  let json;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { error: 'ERR failed to parse request body as JSON' };
  }
  const list = many ? json : [json];
  if (!Array.isArray(list) || list.length === 0) {
    return {
      error: many ? 'ERR request body must be a non-empty array of commands' : 'ERR command must be an array',
    };
  }
  const commands = [];
  for (const cmd of list) {
    if (!Array.isArray(cmd) || cmd.length === 0 || typeof cmd[0] !== 'string' || cmd[0] === '') {
      return { error: 'ERR each command must be a non-empty array starting with the command name' };
    }
    commands.push(cmd.map(toArgument));
  }
  return { commands };
}

/** JSON numbers and booleans become their text, objects their JSON, as the REST API does. @param {unknown} value */
function toArgument(value) {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Upstash's base64 response encoding: every string (at any depth) becomes base64 of its bytes, except a top-level
 * "OK", which @upstash/redis keeps as is; nested strings are always decoded by the client, so "OK" is encoded there.
 * @param {Reply} value
 * @param {boolean} base64
 * @param {boolean} topLevel
 * @returns {unknown}
 */
function encodeReply(value, base64, topLevel) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : null;
  if (Buffer.isBuffer(value) || typeof value === 'string') {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
    if (!base64) return bytes.toString('utf8');
    return topLevel && bytes.equals(OK_BYTES) ? 'OK' : bytes.toString('base64');
  }
  if (value instanceof Error) return value.message;
  const items = Array.isArray(value) ? value : Object.entries(value).flat();
  return items.map((item) => encodeReply(/** @type {Reply} */ (item), base64, false));
}
const OK_BYTES = Buffer.from('OK');

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {{ faults: ReturnType<typeof createFaults>, timers: Set<NodeJS.Timeout> }} ctx
 * @returns {Promise<boolean>} whether the fault already answered the request
 */
async function injectFault(req, res, { faults, timers, token }) {
  const fault = faults.take(scopeOf(req, token));
  if (!fault) return false;
  if (fault.mode === 'down') {
    req.socket.destroy();
    return true;
  }
  if (fault.mode === 'error') {
    sendJson(res, 500, { error: 'injected' });
    return true;
  }
  if (fault.mode === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('not json');
    return true;
  }
  await delay(fault.delay_ms, timers);
  return res.destroyed;
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {string} path
 * @param {{ faults: ReturnType<typeof createFaults>, backend: Backend }} ctx
 */
async function handleAdmin(req, res, path, { faults, backend }) {
  if (path === '/_standin/health' && req.method === 'GET') return sendJson(res, 200, { ok: true });
  if (path === '/_standin/fault' && req.method === 'GET') return sendJson(res, 200, faults.state);
  if (path === '/_standin/fault' && req.method === 'POST') {
    const body = await readBody(req, MAX_BODY_BYTES);
    try {
      return sendJson(res, 200, faults.set(JSON.parse(body?.toString('utf8') ?? '')));
    } catch (err) {
      return sendJson(res, 400, { error: /** @type {Error} */ (err).message });
    }
  }
  if (path === '/_standin/flush' && req.method === 'POST') {
    await backend.flush();
    return sendJson(res, 200, { ok: true });
  }
  sendJson(res, 404, { error: 'Not Found' });
}

/** @param {http.IncomingMessage} req */
function bearerOf(req) {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * The token, optionally followed by `:<scope>` (not part of Upstash's protocol): tests running in
 * parallel against this one server give their clients a scope, and a fault with that `match` hits
 * only them.
 * @param {http.IncomingMessage} req @param {string} token
 */
function isAuthorized(req, token) {
  const given = bearerOf(req);
  return given === token || (given?.startsWith(`${token}:`) ?? false);
}

/** @param {http.IncomingMessage} req @param {string} token */
function scopeOf(req, token) {
  const given = bearerOf(req);
  return given?.startsWith(`${token}:`) ? given.slice(token.length + 1) : undefined;
}

/** @param {string | undefined} url */
function pathOf(url) {
  try {
    return new URL(url ?? '/', 'http://standin').pathname;
  } catch {
    return '';
  }
}

/** @param {string} host */
function formatHost(host) {
  return host.includes(':') ? `[${host}]` : host;
}
