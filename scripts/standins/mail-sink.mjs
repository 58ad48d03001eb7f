// Local mail sink: accepts the Worker's sends in Resend (POST /emails) and Postmark (POST /email) wire formats,
// stores them in memory and serves them back through a Mailpit-compatible /api/v1 read API and a small web page
// (mail-sink-pages.mjs).
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { createFaults, delay, listen, readBody, sendFavicon, sendJson } from './http-kit.mjs';
import {
  formatAddress,
  INBOX_CSP,
  INBOX_SCRIPT,
  INBOX_SCRIPT_PATH,
  layout,
  PAGE_CSP,
  renderInbox,
  renderMessage,
} from './mail-sink-pages.mjs';

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const SNIPPET_LENGTH = 250;
const FAULT_MODES = ['error', 'ratelimit', 'down', 'slow'];
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

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

/** @param {http.IncomingMessage} req @param {Provider} provider */
function idempotencyKey(req, provider) {
  for (const name of provider.idempotencyHeaders) {
    const value = req.headers[name];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** @type {Provider} */
const resend = {
  name: 'resend',
  idempotencyHeaders: ['idempotency-key', 'x-idempotency-key'],
  // Resend answers 409 invalid_idempotent_request when a key is reused with another payload.
  rejectsChangedPayload: true,
  authenticate(req, apiKey) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) return resendError(401, 'missing_api_key', 'Missing API key in the authorization header.');
    if (apiKey !== undefined && match[1] !== apiKey)
      return resendError(403, 'invalid_api_key', 'API key is invalid.');
    return null;
  },
  toMessage(body) {
    if (!isObject(body))
      return resendError(422, 'validation_error', 'The request body must be a JSON object.');
    for (const field of ['from', 'to', 'subject']) {
      if (isBlank(body[field]))
        return resendError(422, 'missing_required_field', `Missing \`${field}\` field.`);
    }
    for (const field of ['subject', 'html', 'text']) {
      if (body[field] !== undefined && body[field] !== null && typeof body[field] !== 'string') {
        return resendError(422, 'validation_error', `Invalid \`${field}\` field. Expected a string.`);
      }
    }
    if (isBlank(body.html) && isBlank(body.text)) {
      return resendError(422, 'validation_error', 'Missing `html` or `text` field.');
    }
    /** @type {Record<string, Address[]>} */
    const lists = {};
    for (const field of ['from', 'to', 'cc', 'bcc', 'reply_to']) {
      const parsed = addressField(body[field]);
      if (!parsed) {
        return resendError(
          422,
          'validation_error',
          `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
        );
      }
      lists[field] = parsed;
    }
    if (lists.from.length !== 1)
      return resendError(422, 'validation_error', 'Invalid `from` field. Expected one address.');
    const headers = isObject(body.headers)
      ? Object.entries(body.headers).map(([k, v]) => [k, String(v)])
      : [];
    const tags = Array.isArray(body.tags)
      ? body.tags.filter(isObject).map((t) => `${t.name}:${t.value}`)
      : [];
    return {
      message: {
        From: lists.from[0],
        To: lists.to,
        Cc: lists.cc,
        Bcc: lists.bcc,
        ReplyTo: lists.reply_to,
        Subject: body.subject,
        Text: body.text ?? '',
        HTML: body.html ?? '',
        Tags: tags,
        Headers: Object.fromEntries(headers.map(([k, v]) => [k, [v]])),
      },
    };
  },
  accepted: (message) => ({ id: message.ID }),
  failure(kind) {
    return {
      invalid_json: () => resendError(400, 'validation_error', 'Invalid JSON in the request body.'),
      too_large: () => resendError(413, 'validation_error', 'The request body is too large.'),
      error: () =>
        resendError(500, 'application_error', 'An unexpected error occurred (injected by the mail sink).'),
      ratelimit: () => ({
        ...resendError(
          429,
          'rate_limit_exceeded',
          'Too many requests. Please limit the number of requests per second.',
        ),
        headers: { 'retry-after': '1' },
      }),
      idempotency_conflict: () =>
        resendError(
          409,
          'invalid_idempotent_request',
          'Same idempotency key used with a different request payload.',
        ),
      bad_idempotency_key: () =>
        resendError(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.'),
    }[kind]();
  },
};

/** @type {Provider} */
const postmark = {
  name: 'postmark',
  idempotencyHeaders: ['x-idempotency-key', 'idempotency-key'],
  // Postmark has no idempotency keys of its own; a replay simply gets the first answer back.
  rejectsChangedPayload: false,
  authenticate(req, apiKey) {
    const token = req.headers['x-postmark-server-token'];
    if (typeof token !== 'string' || token === '') {
      return postmarkError(
        401,
        10,
        'No Account or Server API tokens were supplied in the HTTP headers. Please add a header for either X-Postmark-Server-Token or X-Postmark-Account-Token.',
      );
    }
    if (apiKey !== undefined && token !== apiKey) {
      return postmarkError(
        401,
        10,
        'The Server Token you provided in the X-Postmark-Server-Token request header was invalid. Please verify that you are using a valid token.',
      );
    }
    return null;
  },
  toMessage(body) {
    if (!isObject(body)) return postmarkError(422, 402, 'Received invalid JSON input.');
    const from = addressField(body.From);
    if (from?.length !== 1) return postmarkError(422, 300, `Invalid 'From' address: '${body.From ?? ''}'.`);
    if (isBlank(body.To)) return postmarkError(422, 300, 'Zero recipients specified');
    /** @type {Record<string, Address[]>} */
    const lists = {};
    for (const field of ['To', 'Cc', 'Bcc', 'ReplyTo']) {
      const parsed = addressField(body[field]);
      if (!parsed)
        return postmarkError(422, 300, `Error parsing '${field}': Illegal email address '${body[field]}'.`);
      lists[field] = parsed;
    }
    if (isBlank(body.HtmlBody) && isBlank(body.TextBody)) {
      return postmarkError(422, 300, 'Provide either email TextBody or HtmlBody or both.');
    }
    const headers = Array.isArray(body.Headers) ? body.Headers.filter(isObject) : [];
    /** @type {Map<string, string[]>} */
    const headerMap = new Map();
    for (const { Name, Value } of headers) {
      headerMap.set(String(Name), [...(headerMap.get(String(Name)) ?? []), String(Value)]);
    }
    if (typeof body.MessageStream === 'string') headerMap.set('X-PM-Message-Stream', [body.MessageStream]);
    if (typeof body.Tag === 'string' && body.Tag) headerMap.set('X-PM-Tag', [body.Tag]);
    return {
      message: {
        From: from[0],
        To: lists.To,
        Cc: lists.Cc,
        Bcc: lists.Bcc,
        ReplyTo: lists.ReplyTo,
        Subject: typeof body.Subject === 'string' ? body.Subject : '',
        Text: typeof body.TextBody === 'string' ? body.TextBody : '',
        HTML: typeof body.HtmlBody === 'string' ? body.HtmlBody : '',
        Tags: typeof body.Tag === 'string' && body.Tag ? [body.Tag] : [],
        Headers: Object.fromEntries(headerMap),
      },
    };
  },
  accepted: (message) => ({
    To: message.To.map(formatAddress).join(', '),
    SubmittedAt: message.Created,
    MessageID: message.ID,
    ErrorCode: 0,
    Message: 'OK',
  }),
  failure(kind) {
    return {
      invalid_json: () => postmarkError(422, 402, 'Received invalid JSON input.'),
      too_large: () => postmarkError(413, 300, 'The request body is too large.'),
      error: () => postmarkError(500, 0, 'Internal server error (injected by the mail sink).'),
      ratelimit: () => ({
        ...postmarkError(429, 0, 'Rate limit exceeded.'),
        headers: { 'retry-after': '1' },
      }),
      idempotency_conflict: () =>
        postmarkError(409, 0, 'Same idempotency key used with a different request payload.'),
      bad_idempotency_key: () => postmarkError(400, 0, 'The idempotency key must be between 1-256 chars.'),
    }[kind]();
  },
};

/** @type {Record<string, Provider>} */
const PROVIDERS = { '/emails': resend, '/email': postmark };

/** @param {number} status @param {string} name @param {string} message @returns {Reply} */
function resendError(status, name, message) {
  return { status, body: { statusCode: status, name, message } };
}

/** @param {number} status @param {number} code @param {string} message @returns {Reply} */
function postmarkError(status, code, message) {
  return { status, body: { ErrorCode: code, Message: message } };
}

/**
 * Accepts a string (comma-separated, as Postmark sends it) or an array of strings (as Resend allows).
 * @param {unknown} value
 * @returns {Address[] | null} null when any address is malformed
 */
function addressField(value) {
  if (value === undefined || value === null || value === '') return [];
  const parts = Array.isArray(value)
    ? value.flatMap((v) => splitAddresses(String(v)))
    : splitAddresses(String(value));
  const parsed = parts.map(parseAddress);
  return parsed.every(Boolean) ? /** @type {Address[]} */ (parsed) : null;
}

/** Splits on commas outside quotes and angle brackets: `"Doe, Jane" <jane@x.io>, bob@x.io`. @param {string} text */
function splitAddresses(text) {
  const parts = [];
  let current = '';
  let quoted = false;
  let angled = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angled = true;
    else if (ch === '>' && !quoted) angled = false;
    if ((ch === ',' || ch === ';') && !quoted && !angled) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Parses `addr@x.io` or `Name <addr@x.io>` into Mailpit's `{ Name, Address }`. @param {string} text */
function parseAddress(text) {
  const trimmed = text.trim();
  const angled = /^(.*?)\s*<([^<>]+)>$/.exec(trimmed);
  const name = angled
    ? angled[1]
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .replace(/\\(.)/g, '$1')
    : '';
  const address = (angled ? angled[2] : trimmed).trim();
  return ADDRESS.test(address) ? { Name: name, Address: address } : null;
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

/** @param {any} fields @param {string} id @param {Date} created @returns {Record<string, string[]>} */
function standardHeaders(fields, id, created) {
  /** @type {Record<string, string[]>} */
  const headers = {
    From: [formatAddress(fields.From)],
    To: [fields.To.map(formatAddress).join(', ')],
    Subject: [fields.Subject],
    Date: [created.toUTCString()],
    'Message-ID': [`<${id}@mail-sink.local>`],
  };
  if (fields.Cc.length) headers.Cc = [fields.Cc.map(formatAddress).join(', ')];
  if (fields.ReplyTo.length) headers['Reply-To'] = [fields.ReplyTo.map(formatAddress).join(', ')];
  return headers;
}

/**
 * Mailpit's /api/v1 routes: messages (GET list, DELETE), search, message/{ID} and message/{ID}/headers.
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
  if (path === '/api/v1/messages' && req.method === 'DELETE') {
    const raw = await readBody(req, MAX_BODY_BYTES);
    const ids = parseIdList(raw);
    store.clear(ids?.length ? ids : undefined);
    return res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
  }
  if (path === '/api/v1/search' && req.method === 'GET') {
    const matches = store.newestFirst().filter(matcher(url.searchParams.get('query') ?? ''));
    return sendJson(res, 200, listing(store, matches, url.searchParams));
  }
  const route = /^\/api\/v1\/message\/([^/]+)(\/headers)?$/.exec(path);
  if (route && req.method === 'GET') {
    const message = store.get(decodeSegment(route[1]));
    if (!message) return sendJson(res, 404, { error: 'not found' });
    if (route[2]) return sendJson(res, 200, message.Headers);
    message.Read = true;
    return sendJson(res, 200, detail(message));
  }
  sendJson(res, 404, { error: 'not found' });
}

/** @param {Buffer | null} raw @returns {string[] | undefined} */
function parseIdList(raw) {
  try {
    const ids = JSON.parse(raw?.toString('utf8') || '{}').IDs;
    return Array.isArray(ids) ? ids.map(String) : undefined;
  } catch {
    return undefined;
  }
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
    unread: store.messages.filter((m) => !m.Read).length,
    count: page.length,
    messages_count: matches.length,
    start,
    tags: [...new Set(store.messages.flatMap((m) => m.Tags))].sort(),
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

/**
 * A subset of Mailpit's search syntax: `to:`, `from:`, `subject:` and `is:read|unread` terms, anything else a
 * case-insensitive substring of subject, addresses or text; all terms must match.
 * @param {string} query
 * @returns {(m: StoredMessage) => boolean}
 */
function matcher(query) {
  const terms = [...query.matchAll(/(?:(\w+):)?(?:"([^"]*)"|(\S+))/g)].map(([, field, quoted, bare]) => ({
    field: field?.toLowerCase(),
    value: (quoted ?? bare ?? '').toLowerCase(),
  }));
  /** @param {Address[]} list */
  const addresses = (list) => list.map((a) => `${a.Name} <${a.Address}>`.toLowerCase()).join(' ');
  return (m) =>
    terms.every(({ field, value }) => {
      if (field === 'to') return addresses([...m.To, ...m.Cc, ...m.Bcc]).includes(value);
      if (field === 'from') return addresses([m.From]).includes(value);
      if (field === 'subject') return m.Subject.toLowerCase().includes(value);
      if (field === 'is') return value === 'read' ? m.Read : value === 'unread' ? !m.Read : false;
      const everything = `${m.Subject} ${addresses([m.From, ...m.To, ...m.Cc])} ${m.Text}`.toLowerCase();
      return everything.includes(field ? `${field}:${value}` : value);
    });
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

/** @param {unknown} value @returns {value is Record<string, any>} */
function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** @param {unknown} value */
function isBlank(value) {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
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
