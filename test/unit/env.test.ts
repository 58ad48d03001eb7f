import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../src/env';
import { bindings } from '../support/bindings';

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
});
