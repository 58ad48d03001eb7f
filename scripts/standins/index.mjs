// Starts every local stand-in the Worker needs (Neon HTTP, Upstash REST, mail sink, Google and GitHub
// sign-in, Stripe) and stops them together.
// Used by `npm run dev` and by the test suite's global setup, so both run against the same servers.
import { startMailSink } from './mail-sink.mjs';
import { startNeonHttp } from './neon-http.mjs';
import { startOAuthProviders } from './oauth-providers.mjs';
import { startStripe } from './stripe.mjs';
import { startUpstash } from './upstash.mjs';

export const DEFAULT_PORTS = { neon: 4444, upstash: 8079, mail: 8025, oauth: 8090, stripe: 12111 };

/**
 * @param {{ ports?: Partial<typeof DEFAULT_PORTS>, postgresUrl?: string, redisUrl?: string,
 *           dataDir?: string, log?: (line: string) => void }} options
 *   Port 0 picks a free port; `dataDir` keeps the embedded database on disk.
 */
export async function startStandins({
  ports = DEFAULT_PORTS,
  postgresUrl,
  redisUrl,
  dataDir,
  log = () => {},
} = {}) {
  const started = [];
  try {
    const neon = await startNeonHttp({ port: ports.neon ?? 0, postgresUrl, dataDir, log });
    started.push(neon);
    const upstash = await startUpstash({ port: ports.upstash ?? 0, redisUrl, log });
    started.push(upstash);
    const mail = await startMailSink({ port: ports.mail ?? 0, log });
    started.push(mail);
    const oauth = await startOAuthProviders({ port: ports.oauth ?? 0, log });
    started.push(oauth);
    const stripe = await startStripe({ port: ports.stripe ?? 0, log });
    started.push(stripe);
    return {
      stripe,
      neon,
      upstash,
      mail,
      oauth,
      async close() {
        await Promise.allSettled(started.map((server) => server.close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.close()));
    throw error;
  }
}
