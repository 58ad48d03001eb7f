// Drizzle over Neon's SQL-over-HTTP driver: one HTTP request per query or batch, no connections to keep.
import { NeonDbError, neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import type { Config } from '../env';

export type Database = ReturnType<typeof connect>;

type DatabaseConfig = Pick<Config, 'DATABASE_URL' | 'NEON_FETCH_ENDPOINT' | 'DATABASE_TIMEOUT_MS'>;

// Built once per isolate and configuration: building Drizzle is most of a bare request's CPU otherwise.
const handles = new WeakMap<DatabaseConfig, { db: Database; fetchFunction: typeof fetch }>();

export function createDatabase(config: DatabaseConfig): Database {
  let handle = handles.get(config);
  if (!handle) {
    // A database that stops answering must fail the request (503), not hang it.
    const timeoutMs = config.DATABASE_TIMEOUT_MS;
    const fetchFunction = ((input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) })) as typeof fetch;
    handle = { db: connect(config), fetchFunction };
    handles.set(config, handle);
  }
  // The driver keeps its endpoint and fetch in globals: set them for the configuration in use (in
  // production there is one; tests run several in one isolate, one request at a time per database).
  if (config.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = config.NEON_FETCH_ENDPOINT;
  neonConfig.fetchFunction = handle.fetchFunction;
  return handle.db;
}

function connect(config: Pick<Config, 'DATABASE_URL'>) {
  // No relational schema: nothing uses db.query, and building it costs CPU.
  const db = drizzle({ client: neon(config.DATABASE_URL) });
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
