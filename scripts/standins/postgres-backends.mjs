// The databases behind the Neon stand-in: embedded PGlite, or any real Postgres server.
// Both speak "text in, text out" so the stand-in can answer exactly like Neon's SQL-over-HTTP endpoint.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
];

const ISOLATION_LEVELS = {
  ReadUncommitted: 'read uncommitted',
  ReadCommitted: 'read committed',
  RepeatableRead: 'repeatable read',
  Serializable: 'serializable',
};

export function isIsolationLevel(value) {
  return Object.hasOwn(ISOLATION_LEVELS, value);
}

/** Postgres error fields as Neon returns them in its HTTP 400 body. */
export function errorBody(error) {
  const body = { message: error?.message ?? String(error) };
  for (const field of ERROR_FIELDS) {
    if (error?.[field] !== undefined) body[field] = String(error[field]);
  }
  return body;
}

function commandOf(sql) {
  return (
    sql
      .replace(/^\s*(--[^\n]*\n\s*)*/, '')
      .match(/^\s*(\w+)/)?.[1]
      ?.toUpperCase() ?? ''
  );
}

function neonResult(sql, fields, rows, affectedRows) {
  return {
    command: commandOf(sql),
    rowCount: rows.length > 0 || affectedRows === undefined ? rows.length : affectedRows,
    rows,
    fields: fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID ?? 0,
      columnID: f.columnID ?? 0,
      dataTypeSize: f.dataTypeSize ?? -1,
      dataTypeModifier: f.dataTypeModifier ?? -1,
      format: 'text',
    })),
    rowAsArray: true,
  };
}

/**
 * Embedded PGlite: one in-process instance per database name. Databases are clones of a migrated
 * in-memory template; with `dataDir` the default database instead lives on disk and survives restarts.
 */
export async function createPgliteBackend({ dataDir, defaultDatabase } = {}) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const databases = new Map();
  let template;

  async function migrated(instance) {
    await migrate(drizzle(instance), { migrationsFolder: MIGRATIONS_DIR });
    return instance;
  }

  // Neon sends every parameter as text and returns every value as text, so every one of PGlite's
  // conversions (including the array types it registers at start-up) is replaced by the identity.
  function rawTextOptions(instance) {
    const identity = (value) => value;
    const raw = (table) => Object.fromEntries(Object.keys(table).map((oid) => [oid, identity]));
    return { rowMode: 'array', parsers: raw(instance.parsers), serializers: raw(instance.serializers) };
  }

  async function run(queryable, options, { query, params }) {
    const result = await queryable.query(query, params ?? [], options);
    return neonResult(query, result.fields, result.rows, result.affectedRows);
  }

  return {
    kind: 'pglite',
    async create(name) {
      if (databases.has(name)) return;
      let instance;
      if (dataDir && name === defaultDatabase) {
        instance = await migrated(new PGlite(dataDir));
      } else {
        template ??= migrated(new PGlite());
        instance = await (await template).clone();
      }
      databases.set(name, { instance, options: rawTextOptions(instance) });
    },
    async drop(name) {
      const db = databases.get(name);
      databases.delete(name);
      await db?.instance.close();
    },
    has: (name) => databases.has(name),
    async query(name, query) {
      const { instance, options } = databases.get(name);
      return run(instance, options, query);
    },
    async batch(name, queries) {
      const { instance, options } = databases.get(name);
      // PGlite's transaction() rolls back when the callback throws: all or nothing, as Neon does.
      return instance.transaction(async (tx) => {
        const results = [];
        for (const q of queries) results.push(await run(tx, options, q));
        return results;
      });
    },
    async close() {
      for (const { instance } of databases.values()) await instance.close();
      databases.clear();
      if (template) await (await template).close();
    },
  };
}

/**
 * A real Postgres server. Each stand-in database is a server database named `<base>` or
 * `<base>_<name>`, created and migrated on demand.
 */
const LEFTOVER_AGE_MS = 3 * 60 * 60 * 1000;

export async function createPostgresBackend(serverUrl, { log = () => {} } = {}) {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const base = new URL(serverUrl);
  const baseName = decodeURIComponent(base.pathname.slice(1)) || 'edgeauth';
  const rawTypes = { getTypeParser: () => (value) => value };
  const pools = new Map();

  const urlFor = (database) => {
    const url = new URL(base);
    url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  };
  const serverDatabase = (name) => (name === baseName ? baseName : `${baseName}_${name}`);

  async function admin(sql) {
    const client = new pg.Client({ connectionString: urlFor('postgres') });
    client.on('error', (error) => log(`postgres admin connection: ${error.message}`));
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  }

  async function ensureDatabase(database) {
    const { rowCount } = await admin(
      `select 1 from pg_database where datname = '${database.replaceAll("'", "''")}'`,
    );
    if (rowCount === 0) await admin(`create database "${database.replaceAll('"', '""')}"`);
    const pool = new pg.Pool({ connectionString: urlFor(database), max: 8 });
    // An idle connection the server closes (a restart, a forced drop) must not crash the stand-in.
    pool.on('error', (error) => log(`postgres pool ${database}: ${error.message}`));
    // Migrations are serialised across processes by drizzle's own table; concurrent starts are rare.
    await migrate(drizzle(pool), { migrationsFolder: MIGRATIONS_DIR });
    return pool;
  }

  async function run(client, { query, params }) {
    // queryMode 'extended' matches Neon, which rejects multi-statement strings.
    const result = await client.query({
      text: query,
      values: params ?? [],
      rowMode: 'array',
      types: rawTypes,
      queryMode: 'extended',
    });
    return neonResult(query, result.fields, result.rows, result.rowCount ?? undefined);
  }

  // Per-test-file databases (named `<base>_t_...`) left behind by an interrupted run.
  // Only old ones: another test run on this machine may be using its databases right now. The test
  // setup names them t_<base-36 creation time>_<random>.
  const leftovers = await admin(
    `select datname from pg_database where datname like '${baseName.replaceAll("'", "''")}\\_t\\_%'`,
  );
  const cutoff = Date.now() - LEFTOVER_AGE_MS;
  for (const { datname } of leftovers.rows) {
    const created = Number.parseInt(datname.slice(baseName.length + 3).split('_')[0] ?? '', 36);
    if (!Number.isFinite(created) || created < cutoff) {
      await admin(`drop database if exists "${datname}" with (force)`);
    }
  }

  return {
    kind: 'postgres',
    baseName,
    async create(name) {
      if (!pools.has(name)) pools.set(name, await ensureDatabase(serverDatabase(name)));
    },
    async drop(name) {
      const pool = pools.get(name);
      pools.delete(name);
      await pool?.end();
      if (name !== baseName) await admin(`drop database if exists "${serverDatabase(name)}" with (force)`);
    },
    has: (name) => pools.has(name),
    async query(name, query) {
      return run(pools.get(name), query);
    },
    async batch(name, queries, { isolationLevel, readOnly, deferrable } = {}) {
      const client = await pools.get(name).connect();
      try {
        const mode = [
          isolationLevel ? `isolation level ${ISOLATION_LEVELS[isolationLevel]}` : '',
          readOnly === 'true' ? 'read only' : '',
          deferrable === 'true' ? 'deferrable' : '',
        ]
          .filter(Boolean)
          .join(' ');
        await client.query(`begin ${mode}`);
        const results = [];
        for (const q of queries) results.push(await run(client, q));
        await client.query('commit');
        return results;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      for (const pool of pools.values()) await pool.end();
      pools.clear();
    },
  };
}
