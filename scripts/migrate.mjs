// `npm run db:migrate`: applies drizzle/ migrations to DATABASE_URL (Neon in production, any Postgres).
// Uses a direct Postgres connection; drizzle's journal table makes re-runs a no-op.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url || !/^postgres(ql)?:\/\//.test(url)) {
  console.error(
    'DATABASE_URL must be set to a postgres:// connection string (for Neon: the direct, non-pooled one).',
  );
  process.exit(1);
}
const pool = new pg.Pool({ connectionString: url, max: 1 });
try {
  const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../drizzle');
  await migrate(drizzle(pool), { migrationsFolder });
  console.log(`migrations from ${path.relative(process.cwd(), migrationsFolder)}/ applied`);
} catch (error) {
  console.error(`migration failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
