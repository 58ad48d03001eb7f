// Drizzle over Neon's SQL-over-HTTP driver: one HTTP request per query or batch, no connections to keep.
import { NeonDbError, neon, neonConfig } from '@neondatabase/serverless';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { drizzle } from 'drizzle-orm/neon-http';
import type { Config } from '../env';
import { BATCH_SEPARATOR } from '../lib/log-error';

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

/** A batch item's SQL text, as Drizzle's own batch builds it (placeholders, no params). */
function statementText(query: unknown): string {
  return (query as { _prepare(): { getQuery(): { sql: string } } })._prepare().getQuery().sql;
}

function connect(config: Pick<Config, 'DATABASE_URL'>) {
  // No relational schema: nothing uses db.query, and building it costs CPU.
  const db = drizzle({ client: neon(config.DATABASE_URL) });
  // A single query's failure arrives as a DrizzleQueryError carrying its SQL, a batch's as the driver's
  // bare error (a SyntaxError from its JSON parse for an unreadable reply). Make a batch's the same: a
  // dependency failure (503), not a bug of ours (500), whose log line names its statements.
  const batch = db.batch.bind(db);
  const guarded: typeof db.batch = async (queries) => {
    try {
      return await batch(queries);
    } catch (error) {
      const cause =
        error instanceof SyntaxError
          ? new NeonDbError('The database answered a batch with an unreadable reply')
          : error;
      if (!(cause instanceof NeonDbError)) throw error;
      throw new DrizzleQueryError(queries.map(statementText).join(BATCH_SEPARATOR), [], cause);
    }
  };
  db.batch = guarded;
  return db;
}
