// The two relay APIs the mail sink speaks, Resend and Postmark: what each accepts, how each refuses.
import http from 'node:http';
import { formatAddress } from './mail-sink-pages.mjs';

const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** @param {http.IncomingMessage} req @param {Provider} provider */
export function idempotencyKey(req, provider) {
  for (const name of provider.idempotencyHeaders) {
    const value = req.headers[name];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** @type {Provider} */
export const resend = {
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
export const postmark = {
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
export const PROVIDERS = { '/emails': resend, '/email': postmark };

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

/** The headers a relay adds to what it delivers. @param {any} fields @param {string} id @param {Date} created @returns {Record<string, string[]>} */
export function standardHeaders(fields, id, created) {
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
