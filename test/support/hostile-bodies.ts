// Hostile request bodies (fast-check) for an OpenAPI operation: its own schema, valid, tainted or corrupted,
// and garbage of every kind: malformed JSON, invalid UTF-8, over the size limit, nested thousands deep.
import fc from 'fast-check';
import {
  conforming,
  corrupted,
  hex,
  hostileValue,
  type JsonValue,
  type Known,
  toJsonText,
  utf8,
} from './hostile-values';
import { type OpenApiDocument, type Operation, resolveSchema } from './openapi';

const MALFORMED_JSON: readonly string[] = [
  '',
  '   ',
  '{',
  '}',
  '{"email":',
  '{"email": "ann@example.com",}',
  "{'email': 'ann@example.com'}",
  '{"a":1}{"b":2}',
  '[1,2',
  'nul',
  'undefined',
  '{"a": NaN}',
  '{"a": Infinity}',
  '{"a": 0x10}',
  '{"a": 01}',
  '{"a": .5}',
  '{"a": +1}',
  '// comment\n{}',
  '/* */{}',
  '\ufeff{}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '{"a":"\n"}',
  '{"a":"\u0000"}',
  '"',
  '\u0000',
  '{"__proto__": {"is_admin": true}, "__proto__": null',
  '{"email"="ann@example.com"}',
  'email=ann%40example.com&password=x',
  '--hostile\r\nContent-Disposition: form-data; name="email"\r\n\r\nann@example.com\r\n--hostile--',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
];

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  /** Bytes that are not valid UTF-8, as hex. */
  | { kind: 'bytes'; note: string; hex: string }
  /** A JSON object holding one long string, `bytes` long in all. */
  | { kind: 'oversized'; field: string; bytes: number }
  | { kind: 'nested'; shape: 'array' | 'object'; depth: number };

function invalidUtf8(valid: fc.Arbitrary<JsonValue>): fc.Arbitrary<BodySpec> {
  const fixed = fc.constantFrom<BodySpec>(
    { kind: 'bytes', note: 'lone continuation byte', hex: '80' },
    { kind: 'bytes', note: 'UTF-16LE with BOM', hex: `fffe${hex(utf8('{"a":1}')).replace(/(..)/g, '$100')}` },
    {
      kind: 'bytes',
      note: 'overlong NUL inside a string',
      hex: `${hex(utf8('{"email":"a'))}c080${hex(utf8('@b.io"}'))}`,
    },
    { kind: 'bytes', note: 'encoded surrogate', hex: `${hex(utf8('{"email":"'))}eda080${hex(utf8('"}'))}` },
    { kind: 'bytes', note: 'truncated sequence', hex: `${hex(utf8('{"a":"'))}e282` },
    {
      kind: 'bytes',
      note: 'latin-1 text',
      hex: `${hex(utf8('{"email":"'))}e9${hex(utf8('@b.io","password":"'))}e9e9e9e9e9e9e9e9${hex(utf8('"}'))}`,
    },
  );
  const corrupted = fc
    .tuple(valid, fc.nat(), fc.constantFrom(0x80, 0xc0, 0xed, 0xfe, 0xff))
    .map(([value, at, byte]): BodySpec => {
      const bytes = [...utf8(toJsonText(value))];
      bytes.splice(bytes.length === 0 ? 0 : at % bytes.length, 1, byte);
      return { kind: 'bytes', note: 'one byte of valid JSON replaced', hex: hex(bytes) };
    });
  return fc.oneof(fixed, corrupted);
}

/** Request bodies for `operation`: mostly its own schema, corrupted; also garbage of every kind. */
export function bodyFor(doc: OpenApiDocument, operation: Operation, known: Known): fc.Arbitrary<BodySpec> {
  if (operation.method === 'GET' || operation.method === 'HEAD') return fc.constant({ kind: 'none' });
  const schema = operation.body ? resolveSchema(doc, operation.body.schema) : undefined;
  const valid = schema ? conforming(doc, schema, known) : hostileValue;
  const asText = (value: fc.Arbitrary<JsonValue>) =>
    value.map((item): BodySpec => ({ kind: 'text', text: toJsonText(item) }));
  const fieldNames = Object.keys(schema?.properties ?? {});
  const choices: fc.WeightedArbitrary<BodySpec>[] = [
    { weight: 2, arbitrary: asText(hostileValue) },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constantFrom(...MALFORMED_JSON).map((text): BodySpec => ({ kind: 'text', text })),
        fc.tuple(valid, fc.nat()).map(([value, at]): BodySpec => {
          const text = toJsonText(value);
          return { kind: 'text', text: text.slice(0, at % Math.max(1, text.length)) };
        }),
        fc.string({ unit: 'binary', maxLength: 40 }).map((text): BodySpec => ({ kind: 'text', text })),
      ),
    },
    { weight: 1, arbitrary: invalidUtf8(valid) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(fieldNames[0] ?? 'x', '__proto__'),
          fc.constantFrom(64 * 1024, 64 * 1024 + 1, 200_000, 1024 * 1024 + 1),
        )
        .map(([field, bytes]): BodySpec => ({ kind: 'oversized', field, bytes })),
    },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc
          .integer({ min: 1_000, max: 32_000 })
          .map((depth): BodySpec => ({ kind: 'nested', shape: 'array', depth })),
        fc
          .integer({ min: 1_000, max: 10_000 })
          .map((depth): BodySpec => ({ kind: 'nested', shape: 'object', depth })),
      ),
    },
    { weight: 1, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
  ];
  if (schema) {
    choices.push({ weight: 2, arbitrary: asText(valid) });
    choices.push({ weight: 6, arbitrary: asText(conforming(doc, schema, known, true)) });
    if (schema.type === 'object') {
      const mutated = corrupted(doc, schema, known, valid);
      choices.push({ weight: 7, arbitrary: asText(mutated) });
    }
  }
  return fc.oneof(...choices);
}

/** The bytes of a body, and how many there are. */
export function bodyBytes(body: BodySpec): Uint8Array | string | undefined {
  switch (body.kind) {
    case 'none':
      return undefined;
    case 'text':
      return body.text;
    case 'bytes':
      return Uint8Array.from(body.hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
    case 'oversized': {
      const head = `{${JSON.stringify(body.field)}:"`;
      return `${head}${'a'.repeat(Math.max(0, body.bytes - head.length - 2))}"}`;
    }
    case 'nested':
      return body.shape === 'array'
        ? `{"x":${'['.repeat(body.depth)}${']'.repeat(body.depth)}}`
        : `${'{"a":'.repeat(body.depth)}1${'}'.repeat(body.depth)}`;
  }
}

export const byteLength = (bytes: Uint8Array | string | undefined) =>
  bytes === undefined ? 0 : typeof bytes === 'string' ? utf8(bytes).length : bytes.length;
