// Hostile requests (fast-check) for any operation of the OpenAPI document: every part (authorization,
// path parameters, query string, headers, cookies, body) hostile or near-valid, independently; and the
// rendering of a case into a request once the genuine tokens it asks for are at hand.
import fc from 'fast-check';
import { type BodySpec, bodyBytes, bodyFor, byteLength } from './hostile-bodies';
import {
  big,
  conforming,
  hex,
  hostileKey,
  hostileString,
  hostileValue,
  type Known,
  nastyString,
  type Text,
  textOf,
  toJsonText,
  utf8,
} from './hostile-values';
import type { JsonSchema, OpenApiDocument, Operation } from './openapi';
import { API_ORIGIN } from './worker';

/**
 * A header value that fetch can send: CR, LF and NUL dropped (no client can send them; header injection
 * is tried through bodies, query strings and cookies instead) and bytes beyond ASCII percent-encoded
 * (workerd would otherwise re-encode them, and warn, for every case).
 */
export function toHeaderValue(text: string): string {
  let out = '';
  for (const byte of utf8(text)) {
    if (byte === 0x00 || byte === 0x0a || byte === 0x0d) continue;
    out += byte < 0x80 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase()}`;
  }
  return out;
}

const hugeHeader: fc.Arbitrary<Text> = fc
  .tuple(fc.constantFrom('a', 'x.', '=', '%', ';', '%C3%A9'), fc.integer({ min: 8_000, max: 100_000 }))
  .map(([repeat, times]) => big(toHeaderValue(repeat), times));

export const headerJunk: fc.Arbitrary<Text> = fc.oneof(
  { weight: 4, arbitrary: hostileString.map(toHeaderValue) },
  { weight: 1, arbitrary: hugeHeader },
);

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const nowSeconds = () => Math.floor(Date.now() / 1000);

const stripeSignature: fc.Arbitrary<Text> = fc.oneof(
  headerJunk,
  fc
    .tuple(
      fc.oneof(
        fc.integer({ min: -1, max: 2 ** 31 - 1 }).map(String),
        fc.constant(String(nowSeconds())),
        nastyString,
      ),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.constantFrom('v1', 'v0', 'V1', 'v2', ''),
    )
    .map(([t, mac, scheme]) => toHeaderValue(`t=${t},${scheme}=${hex(mac)}`)),
  fc.constantFrom<Text>(
    't=',
    'v1=',
    ',,,',
    't=1,v1=',
    `t=${nowSeconds()},v1=${'0'.repeat(64)},v1=${'f'.repeat(64)}`,
  ),
  fc.integer({ min: 1000, max: 20_000 }).map((times) => big(',v1=00', times, `t=${nowSeconds()}`)),
);

export type HeaderEntry = [string, Text];

const ALLOWED_ORIGINS = [API_ORIGIN, 'http://app.edgeauth.test', 'http://localhost:5173'];

const headerEntry: fc.Arbitrary<HeaderEntry> = fc.oneof(
  fc
    .oneof(
      fc.constantFrom<Text>(
        'application/json',
        'text/html',
        'text/html,application/xhtml+xml,*/*;q=0.8',
        '*/*',
        'image/png',
      ),
      headerJunk,
    )
    .map((value): HeaderEntry => ['accept', value]),
  fc
    .oneof(
      fc.constantFrom<Text>(
        ...ALLOWED_ORIGINS,
        'null',
        'https://evil.example',
        'http://app.edgeauth.test.evil.example',
        'http://APP.EDGEAUTH.TEST',
        'http://app.edgeauth.test:80',
        'http://app.edgeauth.test/',
      ),
      headerJunk,
    )
    .map((value): HeaderEntry => ['origin', value]),
  fc
    .oneof(fc.constantFrom<Text>('body', 'BODY', 'cookie', 'body, body'), headerJunk)
    .map((value): HeaderEntry => ['x-refresh-token-transport', value]),
  fc
    .oneof(fc.constantFrom<Text>('a'.repeat(128), 'a'.repeat(129), '../x', 'id with spaces'), headerJunk)
    .map((value): HeaderEntry => ['x-request-id', value]),
  fc
    .oneof(
      fc.constantFrom<Text>('::1', '2001:db8::1', '999.999.999.999', '127.0.0.1, 10.0.0.1', 'unknown'),
      headerJunk,
    )
    .map((value): HeaderEntry => ['cf-connecting-ip', value]),
  headerJunk.map((value): HeaderEntry => ['user-agent', value]),
  headerJunk.map((value): HeaderEntry => ['x-forwarded-for', value]),
  headerJunk.map((value): HeaderEntry => ['idempotency-key', value]),
  stripeSignature.map((value): HeaderEntry => ['stripe-signature', value]),
  hugeHeader.map((value): HeaderEntry => ['x-padding', value]),
);

const CONTENT_TYPES: readonly string[] = [
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-16',
  'application/json; charset=latin1',
  'application/problem+json',
  'application/vnd.api+json',
  'application/json, text/plain',
  'text/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=hostile',
  'multipart/form-data',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'application/',
  'json',
];

const contentType: fc.Arbitrary<Text | null> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Text | null>('application/json') },
  { weight: 3, arbitrary: fc.constantFrom<Text | null>(...CONTENT_TYPES) },
  { weight: 1, arbitrary: headerJunk },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** How a case authenticates: as a real principal, a principal's token mangled, or with junk. */
export type AuthSpec =
  | { kind: 'none' }
  | { kind: 'principal'; who: 'user' | 'admin' }
  | { kind: 'mangled'; who: 'user'; how: Mangle }
  | { kind: 'raw'; value: Text };

export type Mangle =
  | 'basic-scheme'
  | 'lowercase-scheme'
  | 'no-space'
  | 'double-space'
  | 'trailing-junk'
  | 'truncated'
  | 'alg-none'
  | 'twice'
  | 'comma-list';

const MANGLES: readonly Mangle[] = [
  'basic-scheme',
  'lowercase-scheme',
  'no-space',
  'double-space',
  'trailing-junk',
  'truncated',
  'alg-none',
  'twice',
  'comma-list',
];

export function mangleToken(token: string, how: Mangle): string {
  switch (how) {
    case 'basic-scheme':
      return `Basic ${token}`;
    case 'lowercase-scheme':
      return `bearer ${token}`;
    case 'no-space':
      return `Bearer${token}`;
    case 'double-space':
      return `Bearer  ${token}`;
    case 'trailing-junk':
      return `Bearer ${token}' OR '1'='1`;
    case 'truncated':
      return `Bearer ${token.slice(0, -5)}`;
    case 'alg-none': {
      const [, payload] = token.split('.');
      return `Bearer ${b64url(utf8('{"alg":"none","typ":"JWT"}'))}.${payload}.`;
    }
    case 'twice':
      return `Bearer ${token} Bearer ${token}`;
    case 'comma-list':
      return `Bearer ${token}, Basic YWRtaW46YWRtaW4=`;
  }
}

const jwtShaped: fc.Arbitrary<Text> = fc
  .tuple(hostileValue, hostileValue, fc.uint8Array({ maxLength: 64 }))
  .map(([header, payload, signature]) =>
    toHeaderValue(
      `Bearer ${b64url(utf8(toJsonText(header)))}.${b64url(utf8(toJsonText(payload)))}.${b64url(signature)}`,
    ),
  );

const rawAuthorization: fc.Arbitrary<Text> = fc.oneof(
  fc.constantFrom<Text>(
    'Bearer',
    'Bearer ',
    'Bearer null',
    'Bearer undefined',
    'Bearer a.b.c',
    'Bearer ..',
    'Basic YWRtaW46YWRtaW4=',
    'Digest username="admin"',
    'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIwIn0.',
  ),
  hostileString.map((text) => toHeaderValue(`Bearer ${text}`)),
  jwtShaped,
  fc.integer({ min: 8_000, max: 100_000 }).map((times) => big('a', times, 'Bearer ', '.b.c')),
  headerJunk,
);

function authFor(operation: Operation): fc.Arbitrary<AuthSpec> {
  const bearer = operation.security.includes('bearer');
  const admin = operation.documentedCodes.includes('ADMIN_REQUIRED');
  // Most cases of a protected route carry a valid token: auth comes first, so junk there hides the rest.
  const principal = admin
    ? fc.oneof(
        { weight: 5, arbitrary: fc.constant<AuthSpec>({ kind: 'principal', who: 'admin' }) },
        { weight: 1, arbitrary: fc.constant<AuthSpec>({ kind: 'principal', who: 'user' }) },
      )
    : fc.constant<AuthSpec>({ kind: 'principal', who: 'user' });
  return fc.oneof(
    { weight: bearer ? 9 : 1, arbitrary: principal },
    { weight: bearer ? 1 : 4, arbitrary: fc.constant<AuthSpec>({ kind: 'none' }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...MANGLES).map((how): AuthSpec => ({ kind: 'mangled', who: 'user', how })),
    },
    { weight: 2, arbitrary: rawAuthorization.map((value): AuthSpec => ({ kind: 'raw', value })) },
  );
}

/** `real` stands for a genuine value obtained just before the request (a refresh token, an OAuth flow). */
export type CookieValue = Text | { real: true };

export interface CookieSpec {
  refresh?: CookieValue;
  oauth?: CookieValue;
  /** Extra, malformed cookie-header text. */
  extra?: string;
  /** An Origin to send along (cookie-authenticated routes check it), unless the case has its own. */
  origin?: string;
}

const COOKIE_CHARS =
  "!#$%&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";

const cookieJunk: fc.Arbitrary<Text> = fc.oneof(
  hostileString.map(toHeaderValue),
  fc.string({ unit: fc.constantFrom(...COOKIE_CHARS), maxLength: 64 }),
  fc.constantFrom<Text>(
    '%00',
    '%ED%A0%80',
    '%F0%9F%94%A5',
    '%',
    '%zz',
    '""',
    '"quoted"',
    'deleted',
    '[object Object]',
  ),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map(b64url),
  fc
    .tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ minLength: 1, maxLength: 200 }))
    .map(([iv, data]) => `${b64url(iv)}.${b64url(data)}`),
  fc.integer({ min: 4_000, max: 60_000 }).map((times) => big('A', times)),
);

function cookiesFor(operation: Operation): fc.Arbitrary<CookieSpec | null> {
  const realRefresh = operation.security.includes('refreshCookie');
  const realOAuth = oauthProviderOf(operation) !== undefined;
  const value = (real: boolean): fc.Arbitrary<CookieValue> =>
    real ? fc.oneof(cookieJunk, fc.constant({ real: true as const })) : cookieJunk;
  const spec = fc.record(
    {
      refresh: value(realRefresh),
      oauth: value(realOAuth),
      extra: fc.constantFrom(
        '; ;; =;',
        'edgeauth_refresh=a; edgeauth_refresh=b',
        '=edgeauth_refresh',
        'edgeauth_refresh',
        '__proto__=1; constructor=2',
        `a=${'%'.repeat(50)}`,
      ),
      origin: realRefresh
        ? fc.constantFrom(...ALLOWED_ORIGINS, 'https://evil.example')
        : fc.constant(undefined),
    },
    { requiredKeys: [] },
  );
  return fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: spec });
}

/** The provider of an OAuth callback operation (`/auth/social/callback/google`), if it is one. */
export function oauthProviderOf(operation: Operation): 'google' | 'github' | undefined {
  const name = /^\/auth\/social\/callback\/(google|github)$/.exec(operation.path)?.[1];
  return name as 'google' | 'github' | undefined;
}

export interface QuerySpec {
  params: [string, string][];
  /** Appended as is: malformed percent-encoding, empty pairs, array syntax. */
  raw?: string;
  /** Replace `state` with the state of a real OAuth flow (callbacks only). */
  realState?: boolean;
}

const RAW_QUERY: readonly string[] = [
  '%',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80=%ED%A0%80',
  '&&&',
  '=',
  '==&=',
  'a[b]=c',
  'token[]=1&token[]=2',
  'plan_code[$ne]=x',
  '__proto__[is_admin]=true',
  'constructor[prototype][is_admin]=1',
  '%00=%00',
  ';',
  '+',
  '?',
];

function queryFor(doc: OpenApiDocument, operation: Operation, known: Known): fc.Arbitrary<QuerySpec> {
  const names = operation.queryParams.map((param) => param.name);
  const documented = operation.queryParams.map((param) =>
    fc.option(
      fc.oneof(
        {
          weight: 3,
          arbitrary: conforming(doc, param.schema, known, true).map((value): [string, string] => [
            param.name,
            typeof value === 'string' ? value : toJsonText(value),
          ]),
        },
        { weight: 3, arbitrary: hostileString.map((value): [string, string] => [param.name, value]) },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(
              '1e309',
              '-1',
              'NaN',
              '0x10',
              ' 5',
              '5abc',
              '9'.repeat(400),
              '1.5',
              'true',
              '[]',
              '',
            )
            .map((value): [string, string] => [param.name, value]),
        },
      ),
      { nil: undefined, freq: 4 },
    ),
  );
  const extra = fc.array(
    fc.tuple(names.length > 0 ? fc.oneof(fc.constantFrom(...names), hostileKey) : hostileKey, hostileString),
    { maxLength: 2 },
  );
  return fc
    .record(
      {
        documented: fc.tuple(...documented),
        extra,
        raw: fc.option(fc.constantFrom(...RAW_QUERY), { nil: undefined, freq: 4 }),
        realState: oauthProviderOf(operation) ? fc.boolean() : fc.constant(false),
      },
      { requiredKeys: ['documented', 'extra', 'realState'] },
    )
    .map(({ documented: pairs, extra: more, raw, realState }) => ({
      params: [...pairs.filter((pair): pair is [string, string] => pair !== undefined), ...more],
      ...(raw === undefined ? {} : { raw }),
      ...(realState ? { realState } : {}),
    }));
}

/** `encoded`: percent-encoded into one segment; `raw`: pasted as is (traversal); `own-session`: the user's. */
export type PathValue = { encoded: string } | { raw: string } | { ownSession: true };

const RAW_PATH_VALUES: readonly string[] = [
  '..',
  '.',
  '../..',
  '../../health',
  '..%2F..%2Fhealth',
  '%2e%2e',
  '%2e%2e%2fhealth',
  '..;',
  '%00',
  '%',
  '%zz',
  '',
  'a/b',
  '%2F',
  '%ED%A0%80',
  '%C0%AE%C0%AE',
  '..\\..\\',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '*',
  '?',
  '#',
  ';',
  'me',
  'null',
  '-1',
];

function pathValueFor(doc: OpenApiDocument, operation: Operation, schema: JsonSchema, known: Known) {
  const uuidVariants = fc.tuple(fc.uuid(), fc.nat(7)).map(([uuid, variant]): PathValue => {
    const variants = [
      uuid.toUpperCase(),
      `{${uuid}}`,
      uuid.replaceAll('-', ''),
      `${uuid}%00`,
      `${uuid}/`,
      ` ${uuid}`,
      `${uuid}.json`,
      uuid.slice(0, 35),
    ];
    return { raw: variants[variant]! };
  });
  const ids = schema.format === 'uuid' ? known.uuids : [];
  const choices: fc.WeightedArbitrary<PathValue>[] = [
    {
      weight: 2,
      arbitrary: conforming(doc, schema, known).map(
        (value): PathValue => ({ encoded: typeof value === 'string' ? value : toJsonText(value) }),
      ),
    },
    { weight: 3, arbitrary: hostileString.map((encoded): PathValue => ({ encoded })) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_PATH_VALUES).map((raw): PathValue => ({ raw })) },
    { weight: 1, arbitrary: uuidVariants },
  ];
  if (ids.length > 0) {
    choices.push({
      weight: 5,
      arbitrary: fc.constantFrom(...ids).map((encoded): PathValue => ({ encoded })),
    });
  }
  if (operation.security.includes('bearer')) {
    choices.push({ weight: 1, arbitrary: fc.constant<PathValue>({ ownSession: true }) });
  }
  return fc.oneof(...choices);
}
export interface HostileCase {
  auth: AuthSpec;
  path: Record<string, PathValue>;
  query: QuerySpec;
  headers: HeaderEntry[];
  contentType: Text | null;
  cookies: CookieSpec | null;
  body: BodySpec;
}

/** Whole requests for `operation`: every part hostile or near-valid, independently. */
export function hostileCase(
  doc: OpenApiDocument,
  operation: Operation,
  known: Known,
): fc.Arbitrary<HostileCase> {
  const path = fc.record(
    Object.fromEntries(
      operation.pathParams.map((param) => [param.name, pathValueFor(doc, operation, param.schema, known)]),
    ),
  );
  return fc.record({
    auth: authFor(operation),
    path,
    query: queryFor(doc, operation, known),
    headers: fc.uniqueArray(headerEntry, { maxLength: 4, selector: ([name]) => name }),
    contentType,
    cookies: cookiesFor(operation),
    body: bodyFor(doc, operation, known),
  });
}

/** Percent-encodes UTF-8 bytes (a lone surrogate becomes U+FFFD, as any client would send it). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of utf8(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Genuine values a case may ask for, fetched before the request is sent. */
export interface Material {
  user?: { token: string; sessionId: string };
  admin?: { token: string };
  refreshToken?: string;
  oauth?: { cookieValue: string; state: string };
}

export interface RenderedRequest {
  path: string;
  init: { method: string; headers: Record<string, string>; body?: string | Uint8Array };
  bodyBytes: number;
}

function authorizationOf(auth: AuthSpec, material: Material): string | undefined {
  switch (auth.kind) {
    case 'none':
      return undefined;
    case 'principal': {
      const token = auth.who === 'admin' ? material.admin?.token : material.user?.token;
      if (!token) throw new Error(`no ${auth.who} token`);
      return `Bearer ${token}`;
    }
    case 'mangled': {
      if (!material.user) throw new Error('no user token');
      return mangleToken(material.user.token, auth.how);
    }
    case 'raw':
      return textOf(auth.value);
  }
}

function cookieHeaderOf(cookies: CookieSpec | null, material: Material): string | undefined {
  if (!cookies) return undefined;
  const cookieValue = (value: CookieValue, real: string | undefined) => {
    if (typeof value === 'object' && 'real' in value) {
      if (real === undefined) throw new Error('real cookie value missing');
      return real;
    }
    return textOf(value);
  };
  const parts: string[] = [];
  if (cookies.refresh !== undefined)
    parts.push(`edgeauth_refresh=${cookieValue(cookies.refresh, material.refreshToken)}`);
  if (cookies.oauth !== undefined)
    parts.push(`edgeauth_oauth=${cookieValue(cookies.oauth, material.oauth?.cookieValue)}`);
  if (cookies.extra !== undefined) parts.push(cookies.extra);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

export function renderCase(operation: Operation, hostile: HostileCase, material: Material): RenderedRequest {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = hostile.path[name];
    if (!value) return '';
    if ('ownSession' in value) {
      if (!material.user) throw new Error('no user session');
      return material.user.sessionId;
    }
    return 'raw' in value ? value.raw : percentEncode(value.encoded);
  });
  const params = hostile.query.params.map(([name, value]): [string, string] =>
    name === 'state' && hostile.query.realState && material.oauth
      ? [name, material.oauth.state]
      : [name, value],
  );
  if (hostile.query.realState && material.oauth && !params.some(([name]) => name === 'state')) {
    params.push(['state', material.oauth.state]);
  }
  const pairs = params.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`);
  if (hostile.query.raw !== undefined) pairs.push(hostile.query.raw);
  const query = pairs.length > 0 ? `?${pairs.join('&')}` : '';

  const headers: Record<string, string> = {};
  for (const [name, value] of hostile.headers) headers[name] = textOf(value);
  headers['cf-connecting-ip'] ??= randomIp();
  const authorization = authorizationOf(hostile.auth, material);
  if (authorization !== undefined) headers.authorization = authorization;
  const cookie = cookieHeaderOf(hostile.cookies, material);
  if (cookie !== undefined) headers.cookie = cookie;
  if (hostile.cookies?.origin !== undefined) headers.origin ??= hostile.cookies.origin;
  const body = bodyBytes(hostile.body);
  if (body !== undefined && hostile.contentType !== null)
    headers['content-type'] = textOf(hostile.contentType);

  return {
    path: `${path}${query}`,
    init: { method: operation.method, headers, ...(body === undefined ? {} : { body }) },
    bodyBytes: byteLength(body),
  };
}

function randomIp(): string {
  const n = crypto.getRandomValues(new Uint8Array(3));
  return `10.${n[0]}.${n[1]}.${n[2]}`;
}

/** Which genuine values a case needs before it can be rendered. */
export function materialNeeds(operation: Operation, hostile: HostileCase) {
  const auth = hostile.auth;
  const realCookie = (value: CookieValue | undefined) =>
    typeof value === 'object' && value !== null && 'real' in value;
  return {
    user:
      (auth.kind === 'principal' && auth.who === 'user') ||
      auth.kind === 'mangled' ||
      Object.values(hostile.path).some((value) => 'ownSession' in value),
    admin: auth.kind === 'principal' && auth.who === 'admin',
    refreshToken: realCookie(hostile.cookies?.refresh),
    oauth:
      realCookie(hostile.cookies?.oauth) || hostile.query.realState === true
        ? oauthProviderOf(operation)
        : undefined,
  };
}
