import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../src/env';
import { bindings } from '../support/bindings';
import { decodeKeySet, encodeKeySet } from '../support/signing-keys';

const valid = (): Env => ({ ...bindings });

describe('parseEnv', () => {
  it('accepts the test configuration and applies types and defaults', () => {
    const config = parseEnv(valid());
    expect(config.ACCESS_TOKEN_EXPIRE).toBe(900);
    expect(config.CORS_ORIGINS).toEqual(['http://app.edgeauth.test', 'http://localhost:5173']);
    expect(config.ADMIN_EMAILS).toEqual(['admin@edgeauth.test']);
    expect(config.FRONTEND_URL).toBeUndefined();
  });

  it('names a missing required variable', () => {
    const env = valid() as Partial<Env>;
    delete env.DATABASE_URL;
    expect(() => parseEnv(env as Env)).toThrow(ConfigError);
    expect(() => parseEnv(env as Env)).toThrow(/DATABASE_URL/);
  });

  it('names every malformed variable at once', () => {
    const env = {
      ...valid(),
      ACCESS_SECRET_KEY: 'short',
      ACCESS_TOKEN_EXPIRE: 'soon',
      CORS_ORIGINS: 'not a url',
    };
    let message = '';
    try {
      parseEnv(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/ACCESS_SECRET_KEY: must be at least 32 characters/);
    expect(message).toMatch(/ACCESS_TOKEN_EXPIRE/);
    expect(message).toMatch(/CORS_ORIGINS/);
    expect(message).not.toContain('short');
  });

  it('rejects a DATABASE_URL that is not a postgres connection string', () => {
    expect(() => parseEnv({ ...valid(), DATABASE_URL: 'mysql://x@y/z' })).toThrow(
      /DATABASE_URL: must be a postgres/,
    );
  });

  it('needs the key its access-token algorithm signs with, and names what is wrong with a key set', () => {
    const { ACCESS_SIGNING_KEYS: _keys, ...withoutKeys } = valid();
    expect(() => parseEnv(withoutKeys as Env)).toThrow(
      /ACCESS_SIGNING_KEYS: required with ACCESS_TOKEN_ALG=ES256/,
    );
    const { ACCESS_SECRET_KEY: _secret, ...withoutSecret } = valid();
    expect(() => parseEnv({ ...withoutSecret, ACCESS_TOKEN_ALG: 'HS256' } as Env)).toThrow(
      /ACCESS_SECRET_KEY: required with ACCESS_TOKEN_ALG=HS256/,
    );
    expect(parseEnv(withoutSecret as Env).ACCESS_SIGNING_KEYS?.published).toHaveLength(1);
    const encode = encodeKeySet;
    const set = { keys: decodeKeySet(bindings.ACCESS_SIGNING_KEYS) };
    const { d: _d, ...publicOnly } = set.keys[0]!;
    for (const [value, message] of [
      ['not base64 json!', /must be a key set from npm run keys:rotate/],
      [encode({ keys: [publicOnly] }), /the first key must be private/],
      [encode({ keys: [set.keys[0], set.keys[0]] }), /the first key must be private|its own kid/],
      [encode({ keys: [{ ...set.keys[0], crv: 'P-384' }] }), /ACCESS_SIGNING_KEYS/],
    ] as const) {
      expect(() => parseEnv({ ...valid(), ACCESS_SIGNING_KEYS: value })).toThrow(message);
    }
  });
});
