// Starts the local stand-ins once for the whole run (in Node) and hands their addresses to the pool.
// TEST_POSTGRES_URL / TEST_REDIS_URL switch the stand-ins from the embedded engines to real servers.
import type { TestProject } from 'vitest/node';
import { startStandins } from '../../scripts/standins/index.mjs';
import { refusedOutbound } from './outbound-guard';
import { startResultsSink } from './results-sink';

declare module 'vitest' {
  export interface ProvidedContext {
    neonUrl: string;
    neonDefaultDatabase: string;
    upstashUrl: string;
    upstashToken: string;
    mailUrl: string;
    oauthUrls: Record<string, string>;
    oauthUrl: string;
    stripeUrl: string;
    stripeApiKey: string;
    stripeWebhookSecret: string;
    /** Where test files PUT reports that land in test-results/ (see results-sink.ts). */
    resultsUrl: string;
    /** FC_SEED from the shell, to replay a fast-check run ('' for a random seed). */
    fcSeed: string;
  }
}

export default async function setup(project: TestProject) {
  const standins = await startStandins({
    ports: { neon: 0, upstash: 0, mail: 0, oauth: 0, stripe: 0 },
    postgresUrl: process.env.TEST_POSTGRES_URL || undefined,
    redisUrl: process.env.TEST_REDIS_URL || undefined,
  });
  console.log(
    `stand-ins: postgres=${standins.neon.backend} redis=${standins.upstash.backend} ` +
      `neon=${standins.neon.url} upstash=${standins.upstash.url} mail=${standins.mail.url}`,
  );
  project.provide('neonUrl', standins.neon.url);
  project.provide('neonDefaultDatabase', standins.neon.defaultDatabase);
  project.provide('upstashUrl', standins.upstash.url);
  project.provide('upstashToken', standins.upstash.token);
  project.provide('mailUrl', standins.mail.url);
  project.provide('oauthUrls', standins.oauth.urls);
  project.provide('oauthUrl', standins.oauth.url);
  project.provide('stripeUrl', standins.stripe.url);
  project.provide('stripeApiKey', standins.stripe.apiKey);
  project.provide('stripeWebhookSecret', standins.stripe.webhookSecret);
  const results = await startResultsSink();
  project.provide('resultsUrl', results.url);
  project.provide('fcSeed', process.env.FC_SEED ?? '');
  return async () => {
    await results.close();
    await standins.close();
    const refused = refusedOutbound();
    if (refused.length > 0) {
      throw new Error(`Tests sent requests to hosts nobody stood up:\n${refused.join('\n')}`);
    }
  };
}
