// Local mail sink: accepts the Worker's sends in Resend (POST /emails) and Postmark (POST /email) wire formats
// (mail-sink-providers.mjs), stores them in memory and serves them back through the part of Mailpit's /api/v1
// read API the tests use and a small web page (mail-sink-pages.mjs).
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { createFaults, delay, listen, readBody, sendFavicon, sendJson } from './http-kit.mjs';
import {
  INBOX_CSP,
  INBOX_SCRIPT,
  INBOX_SCRIPT_PATH,
  layout,
  PAGE_CSP,
  renderInbox,
  renderMessage,
} from './mail-sink-pages.mjs';
import { idempotencyKey, PROVIDERS, postmark, resend, standardHeaders } from './mail-sink-providers.mjs';

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const SNIPPET_LENGTH = 250;
const FAULT_MODES = ['error', 'ratelimit', 'down', 'slow'];

/**
 * @typedef {{ Name: string, Address: string }} Address
 * @typedef {{
 *   ID: string, MessageID: string, Provider: 'resend' | 'postmark', Read: boolean,
 *   From: Address, To: Address[], Cc: Address[], Bcc: Address[], ReplyTo: Address[],
 *   Subject: string, Created: string, Text: string, HTML: string, Tags: string[], Size: number,
 *   Headers: Record<string, string[]>,
 * }} StoredMessage
 * @typedef {{ status: number, body: unknown, headers?: Record<string, string> }} Reply
 * @typedef {{
 *   name: 'resend' | 'postmark',
 *   idempotencyHeaders: string[],
 *   rejectsChangedPayload: boolean,
 *   authenticate(req: http.IncomingMessage, apiKey: string | undefined): Reply | null,
 *   toMessage(body: any): { message: Omit<StoredMessage, 'ID' | 'MessageID' | 'Read' | 'Created' | 'Size' | 'Provider'> } | Reply,
 *   accepted(message: StoredMessage): unknown,
 *   failure(kind: 'invalid_json' | 'too_large' | 'error' | 'ratelimit' | 'idempotency_conflict' | 'bad_idempotency_key'): Reply,
 * }} Provider
 */

/**
 * Start the sink. `messages` is the live store, oldest first; the read API and web page list newest first.
 * @param {{ port?: number, host?: string, apiKey?: string, log?: (msg: string) => void }} [options]
 */
export async function startMailSink({ port = 0, host = '127.0.0.1', apiKey, log = () => {} } = {}) {
  const store = createStore();
  const faults = createFaults(FAULT_MODES);
  const timers = new Set();
  const ctx = { store, faults, apiKey, timers, log };
  const server = http.createServer((req, res) => {
    handleRequest(req, res, ctx).catch((err) => {
      if (res.destroyed) return; // the client went away mid-request
      log(`mail sink: internal error: ${err?.stack ?? err}`);
      sendJson(res, 500, { error: 'internal mail sink error' });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const address = await listen(server, port, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  log(`mail sink listening on ${url}`);
  return {
    url,
    port: address.port,
    messages: store.messages,
    faults,
    get stats() {
      return { ...store.stats };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
    },
  };
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {{ store: ReturnType<typeof createStore>, faults: ReturnType<typeof createFaults>, apiKey?: string,
 *   timers: Set<NodeJS.Timeout>, log: (msg: string) => void }} ctx
 */
async function handleRequest(req, res, ctx) {
  const url = parseUrl(req.url);
  const path = url.pathname;
  const method = req.method ?? 'GET';

  const provider = PROVIDERS[path];
  if (provider && method === 'POST') return handleSend(req, res, provider, ctx);
  if (path.startsWith('/_standin/')) return handleAdmin(req, res, path, ctx);
  if (path.startsWith('/api/v1/')) return handleApi(req, res, url, ctx.store);
  if (method === 'GET' && path === '/') {
    const id = url.searchParams.get('id');
    if (id) return sendMessagePage(res, ctx.store, id);
    return sendHtml(res, 200, renderInbox(ctx.store.newestFirst()), INBOX_CSP);
  }
  if (method === 'GET' && path === INBOX_SCRIPT_PATH) {
    return res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(INBOX_SCRIPT);
  }
  if (method === 'GET' && path === '/favicon.ico') return sendFavicon(res);
  if (method === 'GET' && path.startsWith('/messages/')) {
    return sendMessagePage(res, ctx.store, decodeSegment(path.slice('/messages/'.length)));
  }
  if (method === 'POST' && path === '/delete-all') {
    ctx.store.clear();
    return res.writeHead(303, { location: '/' }).end();
  }
  sendJson(res, 404, { error: 'not found' });
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {Provider} provider
 * @param {{ store: ReturnType<typeof createStore>, faults: ReturnType<typeof createFaults>, apiKey?: string,
 *   timers: Set<NodeJS.Timeout>, log: (msg: string) => void }} ctx
 */
async function handleSend(req, res, provider, { store, faults, apiKey, timers, log }) {
  store.stats.attempts++;
  const fault = faults.take(idempotencyKey(req, provider));
  if (fault?.mode === 'down') return req.socket.destroy();
  if (fault?.mode === 'error' || fault?.mode === 'ratelimit')
    return sendReply(res, provider.failure(fault.mode));
  if (fault?.mode === 'slow') {
    await delay(fault.delay_ms, timers);
    if (res.destroyed) return;
  }

  const denied = provider.authenticate(req, apiKey);
  if (denied) return sendReply(res, denied);
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === null) return sendReply(res, provider.failure('too_large'));
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return sendReply(res, provider.failure('invalid_json'));
  }

  const key = idempotencyKey(req, provider);
  if (key !== undefined && (key.length < 1 || key.length > 256)) {
    return sendReply(res, provider.failure('bad_idempotency_key'));
  }
  const fingerprint = createHash('sha256').update(raw).digest('hex');
  const previous = key === undefined ? undefined : store.idempotent.get(`${provider.name}:${key}`);
  if (previous) {
    const changed = previous.fingerprint !== fingerprint && provider.rejectsChangedPayload;
    return sendReply(res, changed ? provider.failure('idempotency_conflict') : previous.reply);
  }

  const parsed = provider.toMessage(body);
  if ('status' in parsed) return sendReply(res, parsed);
  const message = store.add(provider.name, parsed.message);
  const reply = { status: 200, body: provider.accepted(message) };
  if (key !== undefined) store.idempotent.set(`${provider.name}:${key}`, { fingerprint, reply });
  log(`mail sink: ${provider.name} message ${message.ID} to ${message.To.map((a) => a.Address).join(', ')}`);
  sendReply(res, reply);
}

/** In-memory message store; `idempotent` and `stats` outlive "delete all", as they would at the provider. */
function createStore() {
  /** @type {StoredMessage[]} */
  const messages = [];
  /** @type {Map<string, { fingerprint: string, reply: Reply }>} */
  const idempotent = new Map();
  const stats = { attempts: 0, delivered: 0 };
  return {
    messages,
    idempotent,
    stats,
    /** @param {StoredMessage['Provider']} provider @param {any} fields @returns {StoredMessage} */
    add(provider, fields) {
      const id = randomUUID();
      const created = new Date();
      /** @type {StoredMessage} */
      const message = {
        ID: id,
        MessageID: id,
        Provider: provider,
        Read: false,
        ...fields,
        Created: created.toISOString(),
        Size: Buffer.byteLength(fields.Text) + Buffer.byteLength(fields.HTML),
        Headers: { ...standardHeaders(fields, id, created), ...fields.Headers },
      };
      messages.push(message);
      stats.delivered++;
      return message;
    },
    /** @param {string} id */
    get(id) {
      if (id === 'latest') return messages.at(-1);
      return messages.find((m) => m.ID === id);
    },
    newestFirst() {
      return [...messages].reverse();
    },
    /** @param {string[]} [ids] all messages when absent */
    clear(ids) {
      const keep = ids ? messages.filter((m) => !ids.includes(m.ID)) : [];
      messages.splice(0, messages.length, ...keep);
    },
  };
}

/**
 * The Mailpit /api/v1 routes the tests and the mailbox read: messages (the newest first), search by
 * recipient (`query=to:<address>`, the one term callers use) and message/{ID}.
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {URL} url
 * @param {ReturnType<typeof createStore>} store
 */
async function handleApi(req, res, url, store) {
  const path = url.pathname;
  if (path === '/api/v1/messages' && req.method === 'GET') {
    return sendJson(res, 200, listing(store, store.newestFirst(), url.searchParams));
  }
  if (path === '/api/v1/search' && req.method === 'GET') {
    const to = /^to:(.+)$/i
      .exec(url.searchParams.get('query') ?? '')?.[1]
      ?.trim()
      .toLowerCase();
    if (!to) return sendJson(res, 400, { error: 'query must be to:<address>' });
    const matches = store
      .newestFirst()
      .filter((m) => [...m.To, ...m.Cc, ...m.Bcc].some((a) => a.Address.toLowerCase() === to));
    return sendJson(res, 200, listing(store, matches, url.searchParams));
  }
  const route = /^\/api\/v1\/message\/([^/]+)$/.exec(path);
  if (route && req.method === 'GET') {
    const message = store.get(decodeSegment(route[1]));
    if (!message) return sendJson(res, 404, { error: 'not found' });
    message.Read = true;
    return sendJson(res, 200, detail(message));
  }
  sendJson(res, 404, { error: 'not found' });
}

/**
 * @param {ReturnType<typeof createStore>} store
 * @param {StoredMessage[]} matches newest first
 * @param {URLSearchParams} params
 */
function listing(store, matches, params) {
  const start = clampInt(params.get('start'), 0);
  const limit = clampInt(params.get('limit'), 50);
  const page = matches.slice(start, start + limit);
  return {
    total: store.messages.length,
    count: page.length,
    messages_count: matches.length,
    start,
    messages: page.map(summary),
  };
}

/** @param {string | null} value @param {number} fallback */
function clampInt(value, fallback) {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** @param {StoredMessage} m */
function summary(m) {
  return {
    ID: m.ID,
    MessageID: m.MessageID,
    Read: m.Read,
    From: m.From,
    To: m.To,
    Cc: m.Cc,
    Bcc: m.Bcc,
    ReplyTo: m.ReplyTo,
    Subject: m.Subject,
    Created: m.Created,
    Tags: m.Tags,
    Size: m.Size,
    Attachments: 0,
    Snippet: snippet(m),
  };
}

/** @param {StoredMessage} m */
function detail(m) {
  return {
    ...summary(m),
    ReturnPath: m.From.Address,
    Date: m.Created,
    Text: m.Text,
    HTML: m.HTML,
    Headers: m.Headers,
    Inline: [],
    Attachments: [],
  };
}

/** @param {StoredMessage} m */
function snippet(m) {
  const source = m.Text || htmlToText(m.HTML);
  const collapsed = source.replace(/\s+/g, ' ').trim();
  return collapsed.length > SNIPPET_LENGTH ? `${collapsed.slice(0, SNIPPET_LENGTH)}...` : collapsed;
}

/** @param {string} html */
function htmlToText(html) {
  return html
    .replace(/<(style|script|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** @param {http.ServerResponse} res @param {ReturnType<typeof createStore>} store @param {string} id */
function sendMessagePage(res, store, id) {
  const message = store.get(id);
  if (!message)
    return sendHtml(
      res,
      404,
      layout('Not found', '<p>No such message. <a href="/">Back to the inbox</a></p>'),
    );
  message.Read = true;
  sendHtml(res, 200, renderMessage(message));
}

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {string} path
 * @param {{ store: ReturnType<typeof createStore>, faults: ReturnType<typeof createFaults> }} ctx
 */
async function handleAdmin(req, res, path, { store, faults }) {
  // `service` tells tools such as `npm run smoke` that this is the sink and not another mailbox.
  if (path === '/_standin/health' && req.method === 'GET')
    return sendJson(res, 200, { ok: true, service: 'edgeauth-mail-sink' });
  if (path === '/_standin/stats' && req.method === 'GET') return sendJson(res, 200, { ...store.stats });
  if (path === '/_standin/fault' && req.method === 'GET') return sendJson(res, 200, faults.state);
  if (path === '/_standin/fault' && req.method === 'POST') {
    const raw = await readBody(req, MAX_BODY_BYTES);
    try {
      return sendJson(res, 200, faults.set(JSON.parse(raw?.toString('utf8') ?? '')));
    } catch (err) {
      return sendJson(res, 400, { error: /** @type {Error} */ (err).message });
    }
  }
  sendJson(res, 404, { error: 'not found' });
}

/** @param {string | undefined} url */
function parseUrl(url) {
  try {
    return new URL(url ?? '/', 'http://sink');
  } catch {
    return new URL('http://sink/invalid');
  }
}

/** @param {string} segment */
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** @param {http.ServerResponse} res @param {Reply} reply */
function sendReply(res, reply) {
  sendJson(res, reply.status, reply.body, reply.headers);
}

/** @param {http.ServerResponse} res @param {number} status @param {string} html @param {string} [csp] */
function sendHtml(res, status, html, csp = PAGE_CSP) {
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    })
    .end(html);
}
