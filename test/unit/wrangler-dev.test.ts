// The dev runner's `wrangler dev` command line: every setting and secret goes through env files, so
// nothing secret shows in `ps`; the env file renders values so that wrangler reads them back unchanged.
import { describe, expect, it } from 'vitest';
import { renderEnvFile, wranglerDevArgs } from '../../scripts/wrangler-dev.mjs';

const SECRETS = {
  UPSTASH_REDIS_REST_TOKEN: 'upstash-token-0123456789',
  STRIPE_SECRET_KEY: 'sk_test_standin_abcdef',
  STRIPE_WEBHOOK_SECRET: 'whsec_standin_abcdef',
  GOOGLE_CLIENT_SECRET: 'local-google-secret',
};

describe('wranglerDevArgs', () => {
  it('passes the env files in order and no variable on the command line', () => {
    const args = wranglerDevArgs({
      apiPort: 18787,
      envFiles: ['/repo/.dev.vars', '/tmp/edgeauth-wrangler-x/standins.env'],
      persistTo: '/tmp/state',
    });
    expect(args).toEqual([
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      '18787',
      '--test-scheduled',
      '--show-interactive-dev-session=false',
      '--env-file',
      '/repo/.dev.vars',
      '--env-file',
      '/tmp/edgeauth-wrangler-x/standins.env',
      '--persist-to',
      '/tmp/state',
    ]);
    expect(args).not.toContain('--var');
    for (const secret of Object.values(SECRETS)) expect(args.join(' ')).not.toContain(secret);
  });
});

describe('renderEnvFile', () => {
  it('writes one single-quoted line per variable', () => {
    expect(renderEnvFile(SECRETS)).toBe(
      "UPSTASH_REDIS_REST_TOKEN='upstash-token-0123456789'\n" +
        "STRIPE_SECRET_KEY='sk_test_standin_abcdef'\n" +
        "STRIPE_WEBHOOK_SECRET='whsec_standin_abcdef'\n" +
        "GOOGLE_CLIENT_SECRET='local-google-secret'\n",
    );
  });

  it('escapes $ (wrangler expands $NAME in env files) and keeps # literally', () => {
    expect(renderEnvFile({ A: 'p$HOME#x', DATABASE_URL: 'postgres://u@h/db#frag' })).toBe(
      "A='p\\$HOME#x'\nDATABASE_URL='postgres://u@h/db#frag'\n",
    );
  });

  it("double-quotes a value holding a ' (a sender name such as Ann's App)", () => {
    expect(renderEnvFile({ MAIL_FROM: "Ann's App <a@b.co>", B: "it's $5" })).toBe(
      'MAIL_FROM="Ann\'s App <a@b.co>"\nB="it\'s \\$5"\n',
    );
  });

  it('refuses what an env file cannot carry instead of writing a different value', () => {
    expect(() => renderEnvFile({ A: `it's "quoted"` })).toThrow(/A: a value with both kinds of quotes/);
    expect(() => renderEnvFile({ A: "it's a\\path" })).toThrow(
      /A: a value with both kinds of quotes or a backslash/,
    );
    expect(() => renderEnvFile({ A: 'two\nlines' })).toThrow(/A: a line break/);
    expect(() => renderEnvFile({ 'NOT A NAME': 'x' })).toThrow(/not a variable name/);
  });
});
