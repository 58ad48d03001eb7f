// Per-file data isolation: every test file gets its own freshly migrated database at the Neon
// stand-in (a PGlite clone, or a new database on the real server) and drops it when done.
import { afterAll, beforeAll } from 'vitest';
import { bindings } from './bindings';
import { useDatabase } from './worker';

// The creation time leads the name so a later run only sweeps databases old enough to be abandoned.
const name = `t_${Date.now().toString(36)}_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;

beforeAll(async () => {
  const res = await fetch(`${bindings.TEST_NEON_URL}/_standin/databases`, {
    method: 'POST',
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201)
    throw new Error(`could not create test database: ${res.status} ${await res.text()}`);
  useDatabase(name);
});

afterAll(async () => {
  await fetch(`${bindings.TEST_NEON_URL}/_standin/databases/${name}`, { method: 'DELETE' });
});
