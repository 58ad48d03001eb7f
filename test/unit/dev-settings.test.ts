// Who serves each integration under `npm run dev`: the user's .dev.vars or shell wins per integration,
// a stand-in fills only what is left unset or at the example's placeholder, and addresses follow ports.
import { describe, expect, it } from 'vitest';
import { integrationSources, parseEnvFile, resolveDevSettings } from '../../scripts/dev-settings.mjs';

const example = parseEnvFile(`
APP_URL=http://localhost:8787
CORS_ORIGINS=http://localhost:5173
DATABASE_URL=postgres://edgeauth:edgeauth@127.0.0.1:4444/edgeauth
NEON_FETCH_ENDPOINT=http://127.0.0.1:4444/sql
UPSTASH_REDIS_REST_URL=http://127.0.0.1:8079
UPSTASH_REDIS_REST_TOKEN=local-upstash-token
MAIL_API_URL=http://127.0.0.1:8025
MAIL_API_KEY=local-mail-key
GOOGLE_CLIENT_ID=
GOOGLE_CLIENT_SECRET=
GOOGLE_AUTH_URL=https://accounts.google.com/o/oauth2/v2/auth
GITHUB_CLIENT_ID=
GITHUB_CLIENT_SECRET=
STRIPE_SECRET_KEY=
STRIPE_WEBHOOK_SECRET=
STRIPE_API_BASE=
ACCESS_SECRET_KEY=generate-me
`);

const standins = {
  database: { DATABASE_URL: 'postgres://x@127.0.0.1/db_1', NEON_FETCH_ENDPOINT: 'http://127.0.0.1:5555/sql' },
  redis: { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:5556', UPSTASH_REDIS_REST_TOKEN: 'standin-token' },
  mail: { MAIL_API_URL: 'http://127.0.0.1:5557', MAIL_API_KEY: 'local-mail-key' },
  google: { GOOGLE_CLIENT_ID: 'local-google-client', GOOGLE_AUTH_URL: 'http://127.0.0.1:5558/google/auth' },
  github: { GITHUB_CLIENT_ID: 'local-github-client' },
  stripe: {
    STRIPE_SECRET_KEY: 'sk_test_standin',
    STRIPE_WEBHOOK_SECRET: 'whsec_standin',
    STRIPE_API_BASE: 'http://127.0.0.1:5559',
  },
};

const resolve = (devVars: Record<string, string>, shell: Record<string, string> = {}) =>
  resolveDevSettings({ example, devVars, shell, standins, api: 'http://localhost:9001', apiPort: 9001 });

describe('parseEnvFile', () => {
  it('reads plain, quoted, exported and commented lines as dotenv does', () => {
    expect(
      parseEnvFile(
        '# a comment\nA=1\nexport B=\'two # not a comment\'\nC="three"\nD=four # a comment\nE=\n  F = spaced \nnot a line\n',
      ),
    ).toEqual({ A: '1', B: 'two # not a comment', C: 'three', D: 'four', E: '', F: 'spaced' });
  });
});

describe('resolveDevSettings', () => {
  it('lets the stand-ins serve every integration of an untouched .dev.vars', () => {
    const { vars, sources } = resolve({ ...example, ACCESS_SECRET_KEY: 'x'.repeat(48) });
    expect(sources).toEqual({
      database: 'stand-in',
      redis: 'stand-in',
      mail: 'stand-in',
      google: 'stand-in',
      github: 'stand-in',
      stripe: 'stand-in',
    });
    expect(vars).toMatchObject({ ...Object.assign({}, ...Object.values(standins)) });
    expect(vars.APP_URL).toBe('http://localhost:9001');
    expect(vars.CORS_ORIGINS).toBe('http://localhost:5173,http://localhost:9001,http://127.0.0.1:9001');
    expect(vars).not.toHaveProperty('ACCESS_SECRET_KEY');
  });

  it('keeps each integration the user configured in .dev.vars out of the stand-ins', () => {
    const { vars, sources } = resolve({
      ...example,
      STRIPE_SECRET_KEY: 'sk_test_mine',
      STRIPE_WEBHOOK_SECRET: 'whsec_mine',
      GOOGLE_CLIENT_ID: 'mine.apps.googleusercontent.com',
      GOOGLE_CLIENT_SECRET: 'google-mine',
      MAIL_API_KEY: 're_mine',
      DATABASE_URL: 'postgres://me:pw@ep-x.neon.tech/neondb',
    });
    expect(sources).toMatchObject({
      stripe: '.dev.vars',
      google: '.dev.vars',
      mail: '.dev.vars',
      database: '.dev.vars',
      github: 'stand-in',
      redis: 'stand-in',
    });
    // Nothing of the stand-in for those: wrangler reads the user's values from .dev.vars itself.
    for (const name of [
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'STRIPE_API_BASE',
      'GOOGLE_CLIENT_ID',
      'GOOGLE_AUTH_URL',
      'MAIL_API_KEY',
      'DATABASE_URL',
    ]) {
      expect(vars).not.toHaveProperty(name);
    }
    // Placeholders that name a stand-in are cleared, so the real Neon and mail provider are used.
    expect(vars.NEON_FETCH_ENDPOINT).toBe('');
    expect(vars.MAIL_API_URL).toBe('');
    expect(vars.GITHUB_CLIENT_ID).toBe('local-github-client');
    expect(vars.UPSTASH_REDIS_REST_TOKEN).toBe('standin-token');
  });

  it('takes the shell over .dev.vars, and passes the shell value on (wrangler does not read the shell)', () => {
    const { vars, sources } = resolve(
      { ...example, STRIPE_SECRET_KEY: 'sk_test_file' },
      { STRIPE_SECRET_KEY: 'sk_test_shell', STRIPE_WEBHOOK_SECRET: 'whsec_shell', UNRELATED: 'x' },
    );
    expect(sources.stripe).toBe('shell');
    expect(vars).toMatchObject({ STRIPE_SECRET_KEY: 'sk_test_shell', STRIPE_WEBHOOK_SECRET: 'whsec_shell' });
    expect(vars).not.toHaveProperty('STRIPE_API_BASE');
    expect(vars).not.toHaveProperty('UNRELATED');
  });

  it("keeps the user's own APP_URL and adds the API's origins to their CORS_ORIGINS", () => {
    const { vars } = resolve({
      ...example,
      APP_URL: 'https://api.example.com',
      CORS_ORIGINS: 'https://app.example.com',
    });
    expect(vars).not.toHaveProperty('APP_URL');
    expect(vars.CORS_ORIGINS).toBe('https://app.example.com,http://localhost:9001,http://127.0.0.1:9001');
  });

  it('counts a variable missing from .dev.vars as unset', () => {
    expect(integrationSources({ example, devVars: {}, shell: {} })).toMatchObject({
      stripe: 'stand-in',
      mail: 'stand-in',
    });
    expect(
      integrationSources({ example, devVars: {}, shell: { GITHUB_CLIENT_ID: 'gh-mine' } }),
    ).toMatchObject({
      github: 'shell',
    });
  });
});
