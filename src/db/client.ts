// Drizzle over Neon's SQL-over-HTTP driver: one HTTP request per query or batch, no connections to keep.
import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import type { Config } from '../env';
import * as schema from './schema';

export type Database = ReturnType<typeof createDatabase>;

export function createDatabase(config: Pick<Config, 'DATABASE_URL' | 'NEON_FETCH_ENDPOINT'>) {
  // The driver keeps its endpoint in a global; every Worker in one isolate shares one configuration.
  if (config.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = config.NEON_FETCH_ENDPOINT;
  return drizzle({ client: neon(config.DATABASE_URL), schema });
}
