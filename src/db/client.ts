// Drizzle over Neon's SQL-over-HTTP driver: one HTTP request per query or batch, no connections to keep.
import { NeonDbError, neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import type { Config } from '../env';
import * as schema from './schema';

export type Database = ReturnType<typeof createDatabase>;

export function createDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'NEON_FETCH_ENDPOINT' | 'DATABASE_TIMEOUT_MS'>,
) {
  // The driver keeps its endpoint in a global; every Worker in one isolate shares one configuration.
  if (config.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = config.NEON_FETCH_ENDPOINT;
  // A database that stops answering must fail the request (503), not hang it.
  const timeoutMs = config.DATABASE_TIMEOUT_MS;
  neonConfig.fetchFunction = (input: RequestInfo | URL, init?: RequestInit) =>
    fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const db = drizzle({ client: neon(config.DATABASE_URL), schema });
  // A single query's unreadable reply arrives as a NeonDbError, a batch's as a bare SyntaxError from the
  // driver's JSON parse: make it the same dependency failure (503), not a bug of ours (500).
  const batch = db.batch.bind(db);
  const guarded: typeof db.batch = async (queries) => {
    try {
      return await batch(queries);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new NeonDbError('The database answered a batch with an unreadable reply');
    }
  };
  db.batch = guarded;
  return db;
}
