// A local stand-in for Neon's SQL-over-HTTP endpoint (what @neondatabase/serverless `neon()` talks to).
// Same request headers, body and response shapes as Neon; backed by PGlite or a real Postgres server.
// Routes under /_standin/ are ours (databases per test file, round-trip counts and the statements counted,
// fault injection).
import http from 'node:http';
import { createFaults, delay, listen, readBody, sendJson } from './http-kit.mjs';
import {
  createPgliteBackend,
  createPostgresBackend,
  errorBody,
  isIsolationLevel,
} from './postgres-backends.mjs';

export const DEFAULT_DATABASE = 'edgeauth';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const FAULT_MODES = ['none', 'down', 'slow', 'error', 'malformed'];
const RECENT_STATEMENTS = 200;

/**
 * Starts the stand-in. `postgresUrl` selects a real server (its database name is the default
 * database); without it an embedded PGlite serves, in memory or, with `dataDir`, on disk.
 * Resolves once migrations are applied.
 */
export async function startNeonHttp({
  port = 0,
  host = '127.0.0.1',
  postgresUrl,
  dataDir,
  log = () => {},
} = {}) {
  const backend = postgresUrl
    ? await createPostgresBackend(postgresUrl, { log })
    : await createPgliteBackend({ dataDir, defaultDatabase: DEFAULT_DATABASE });
  const defaultDatabase = backend.baseName ?? DEFAULT_DATABASE;
  await backend.create(defaultDatabase);
  const stats = new Map();
  const faults = createFaults(FAULT_MODES);
  const timers = new Set();

  const countFor = (name) => {
    if (!stats.has(name)) stats.set(name, { requests: 0, queries: 0, recent: [] });
    return stats.get(name);
  };
  /** The last statements per database, so the benchmark can EXPLAIN exactly what the Worker ran. */
  const remember = (counts, statement) => {
    counts.recent.push({ query: statement.query, params: statement.params ?? [] });
    if (counts.recent.length > RECENT_STATEMENTS) counts.recent.shift();
  };

  function databaseOf(req) {
    try {
      return decodeURIComponent(new URL(String(req.headers['neon-connection-string'])).pathname.slice(1));
    } catch {
      return undefined;
    }
  }

  async function handleSql(req, res) {
    const database = databaseOf(req);
    if (database === undefined) {
      return sendJson(res, 400, { message: 'missing or invalid Neon-Connection-String header' });
    }
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === null) return sendJson(res, 413, { message: 'request body is too large' });
    let body;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendJson(res, 400, { message: 'request body is not valid JSON' });
    }
    if (!backend.has(database)) {
      return sendJson(res, 400, { message: `database "${database}" does not exist`, code: '3D000' });
    }
    const isolationLevel = req.headers['neon-batch-isolation-level'];
    if (isolationLevel !== undefined && !isIsolationLevel(isolationLevel)) {
      return sendJson(res, 400, { message: `invalid isolation level: ${isolationLevel}` });
    }
    const counts = countFor(database);
    counts.requests += 1;
    try {
      if (Array.isArray(body?.queries)) {
        counts.queries += body.queries.length;
        for (const statement of body.queries) remember(counts, statement);
        const results = await backend.batch(database, body.queries, {
          isolationLevel,
          readOnly: req.headers['neon-batch-read-only'],
          deferrable: req.headers['neon-batch-deferrable'],
        });
        return sendJson(res, 200, { results });
      }
      if (typeof body?.query !== 'string') {
        return sendJson(res, 400, { message: 'body must be {query, params} or {queries: [...]}' });
      }
      counts.queries += 1;
      remember(counts, body);
      return sendJson(res, 200, await backend.query(database, body));
    } catch (error) {
      return sendJson(res, 400, errorBody(error));
    }
  }

  /**
   * `POST /_standin/fault {"mode", "count"?, "delay_ms"?}`: down drops the connection, slow delays, error answers 500,
   * malformed answers 200 with a non-JSON body. Unlike the other stand-ins' fault routes, `mode` is required here.
   */
  async function configureFault(req, res) {
    let spec;
    try {
      spec = JSON.parse((await readBody(req, MAX_BODY_BYTES))?.toString('utf8') ?? '');
    } catch {
      return sendJson(res, 400, { message: 'fault must be JSON' });
    }
    if (!FAULT_MODES.includes(spec?.mode)) {
      return sendJson(res, 400, { message: `mode must be ${FAULT_MODES.join('|')}` });
    }
    faults.set(spec);
    return sendJson(res, 200, { ok: true });
  }

  /**
   * A slow request is still served after the delay even if the client gave up meanwhile, so a write that timed out
   * on the client can still land, as it can against a real server.
   * @returns {Promise<boolean>} whether the fault already answered (or dropped) the request
   */
  async function applyFault(req, res) {
    const fault = faults.take(databaseOf(req));
    switch (fault?.mode) {
      case 'down':
        req.socket.destroy();
        return true;
      case 'error':
        sendJson(res, 500, { message: 'injected fault' });
        return true;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' }).end('not json');
        return true;
      case 'slow':
        await delay(fault.delay_ms, timers);
        return false;
      default:
        return false;
    }
  }

  async function handleAdmin(req, res, url) {
    const [, , resource, name] = url.pathname.split('/');
    if (resource === 'health') return sendJson(res, 200, { ok: true, backend: backend.kind });
    if (resource === 'fault' && req.method === 'POST') return configureFault(req, res);
    if (resource === 'stats' && req.method === 'GET') {
      const db = url.searchParams.get('db') ?? defaultDatabase;
      const { requests, queries } = countFor(db);
      return sendJson(res, 200, { requests, queries });
    }
    if (resource === 'statements' && req.method === 'GET') {
      return sendJson(res, 200, {
        statements: countFor(url.searchParams.get('db') ?? defaultDatabase).recent,
      });
    }
    if (resource === 'stats' && req.method === 'DELETE') {
      stats.clear();
      return sendJson(res, 200, { ok: true });
    }
    if (resource === 'databases' && req.method === 'POST') {
      const { name: created } = JSON.parse((await readBody(req, MAX_BODY_BYTES))?.toString('utf8') || '{}');
      if (typeof created !== 'string' || !/^[a-z0-9_]{1,40}$/.test(created)) {
        return sendJson(res, 400, { message: 'name must match [a-z0-9_]{1,40}' });
      }
      await backend.create(created);
      return sendJson(res, 201, { name: created });
    }
    if (resource === 'databases' && req.method === 'DELETE' && name && name !== defaultDatabase) {
      await backend.drop(name);
      stats.delete(name);
      return sendJson(res, 200, { ok: true });
    }
    return sendJson(res, 404, { message: 'not found' });
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    try {
      if (url.pathname.startsWith('/_standin/')) return await handleAdmin(req, res, url);
      if (await applyFault(req, res)) return;
      if (url.pathname === '/sql' && req.method === 'POST') return await handleSql(req, res);
      return sendJson(res, 404, { message: 'not found' });
    } catch (error) {
      log(`neon stand-in error: ${error?.stack ?? error}`);
      if (!res.headersSent) sendJson(res, 500, { message: 'stand-in internal error' });
    }
  });

  const address = await listen(server, port, host);
  return {
    url: `http://${host}:${address.port}`,
    sqlUrl: `http://${host}:${address.port}/sql`,
    port: address.port,
    backend: backend.kind,
    defaultDatabase,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await backend.close();
    },
  };
}
