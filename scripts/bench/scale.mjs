// How cost grows with data: the real Worker on its own database, seeded with 10 k, 100 k and 1 M rows per
// table (sessions, payments, subscriptions, email tokens; filler users own them), then, at each size:
// GET /sessions and GET /billing/payments/me for a user with a few rows of their own (round trips and median
// latency), the hourly sweep and the daily clean-up (time, round trips, rows touched per run, and a second
// clean-up at the largest size to show it resumes), and EXPLAIN of every statement each one sent, as the
// Neon stand-in recorded it, to show which indexes they use.
import { createClient, createRoundTripCounter, expectStatus } from './http.mjs';

export const SIZES = [10_000, 100_000, 1_000_000];
const DATABASE = 'scale';
const PROBE_EMAIL = 'probe@scale.test';
const PROBE_ROWS = 20;
const LATENCY_REQUESTS = 30;
/** What one cron invocation may use on Workers Paid: subrequests (each round trip is one). */
export const SUBREQUEST_LIMIT = 1000;
/** The per-run caps of src/cron (batch × batches): what a run touches at most before the next resumes. */
export const CRON_CAPS = { sweep: 500 * 20, cleanup: 5_000 * 20 };
const BIG_TABLES = ['sessions', 'payments', 'subscriptions', 'email_tokens'];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** SQL straight to the stand-in (not through the Worker, and not while its round trips are counted). */
function sqlClient(neon) {
  const connection = `postgres://edgeauth:edgeauth@127.0.0.1/${DATABASE}`;
  return async (query, params = []) => {
    const response = await fetch(neon.sqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'neon-connection-string': connection },
      body: JSON.stringify({ query, params: params.map((p) => (p === null ? null : String(p))) }),
    });
    const body = await response.json();
    if (response.status !== 200) throw new Error(`scale SQL: ${body.message}\n${query.slice(0, 200)}`);
    const names = body.fields.map((field) => field.name);
    return body.rowAsArray
      ? body.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])))
      : body.rows;
  };
}

/**
 * A fresh data set of `size` rows in each big table. 1 % of the subscriptions are due to end and 0.5 % past
 * their grace period (each needs its own user, as one live subscription per user is a database rule), the rest
 * canceled; 10 % of the sessions ended more than 30 days ago; half the email tokens have expired.
 */
async function seed(sql, size, passwordHash) {
  const fillerUsers = Math.max(1_000, Math.ceil(size * 0.015) + 1);
  const filler = (expression) => `md5('filler' || (${expression}))::uuid`;
  await sql('truncate users cascade');
  await sql(
    `insert into plans (code, name, price_cents, billing_period, stripe_product_id, stripe_price_id)
     values ('scale', 'Scale', 1000, 'monthly', 'prod_scale', 'price_scale') on conflict do nothing`,
  );
  await sql(
    `insert into users (id, email, username, is_verified)
     select ${filler('g')}, 'filler' || g || '@scale.test', 'filler' || g, true from generate_series(1, $1) g`,
    [fillerUsers],
  );
  const [probe] = await sql(
    `insert into users (email, username, password_hash, is_verified) values ($1, 'probe', $2, true) returning id`,
    [PROBE_EMAIL, passwordHash],
  );
  const owner = `case when g <= ${PROBE_ROWS} then '${probe.id}'::uuid else ${filler(`g % ${fillerUsers} + 1`)} end`;
  await sql(
    `insert into sessions (user_id, expires_at, revoked_at)
     select ${owner},
       case when g % 10 = 0 then now() - interval '40 days' else now() + interval '20 days' end,
       case when g % 10 = 1 then now() - interval '1 day' end
     from generate_series(1, $1) g`,
    [size],
  );
  await sql(
    `insert into payments (user_id, stripe_invoice_id, amount_cents, currency, status, created_at)
     select ${owner}, 'in_scale_' || g, 1000, 'usd', 'succeeded', now() - g * interval '1 minute'
     from generate_series(1, $1) g`,
    [size],
  );
  const due = Math.floor(size * 0.01);
  const lapsed = Math.floor(size * 0.005);
  await sql(
    `insert into subscriptions (user_id, plan_id, status, stripe_subscription_id, stripe_customer_id,
       current_period_end, cancel_at_period_end, past_due_since, ended_at, stripe_event_at)
     select case when g <= $2::int + $3::int then ${filler('g')} else ${filler(`g % ${fillerUsers} + 1`)} end,
       (select id from plans where code = 'scale'),
       (case when g <= $2::int then 'active' when g <= $2::int + $3::int then 'past_due' else 'canceled' end)::subscription_status,
       'sub_scale_' || g, 'cus_scale_' || g,
       case when g <= $2::int then now() - interval '1 hour' else now() - interval '10 days' end,
       g <= $2::int,
       case when g > $2::int and g <= $2::int + $3::int then now() - interval '30 days' end,
       case when g > $2::int + $3::int then now() - interval '10 days' end,
       now()
     from generate_series(1, $1) g`,
    [size, due, lapsed],
  );
  await sql(
    `insert into email_tokens (user_id, purpose, token_hash, expires_at)
     select ${filler(`g % ${fillerUsers} + 1`)}, 'verify_email', 'scale_' || g,
       case when g % 2 = 0 then now() - interval '1 day' else now() + interval '1 day' end
     from generate_series(1, $1) g`,
    [size],
  );
  await sql('analyze');
}

/**
 * How the plan reads each of our big tables, from EXPLAIN (FORMAT JSON): the scan node and the index it
 * uses (a bitmap heap scan's index is on its bitmap index scan below).
 */
function scansOf(plan) {
  const scans = [];
  const indexBelow = (node) => node['Index Name'] ?? (node.Plans ?? []).map(indexBelow).find(Boolean);
  const walk = (node) => {
    const table = node['Relation Name'];
    if (BIG_TABLES.includes(table) && node['Node Type'] !== 'ModifyTable') {
      scans.push({ table, node: node['Node Type'], index: indexBelow(node) });
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  return scans;
}

/** EXPLAIN of each distinct statement the stand-in recorded since the last reset. */
async function explainRecorded(neon, sql) {
  const { statements } = await (
    await fetch(`${neon.url}/_standin/statements?db=${encodeURIComponent(DATABASE)}`)
  ).json();
  const seen = new Set();
  const scans = [];
  for (const { query, params } of statements) {
    if (seen.has(query) || !/^\s*(with|select|update|delete)\b/i.test(query)) continue;
    seen.add(query);
    const [row] = await sql(`explain (format json) ${query}`, params);
    const plan = row['QUERY PLAN'];
    scans.push(...scansOf((typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan));
  }
  return scans;
}

async function counts(sql) {
  const [row] = await sql(`select
    (select count(*) from subscriptions where status in ('active', 'trialing') and cancel_at_period_end
       and current_period_end <= now())::int as due,
    (select count(*) from subscriptions where status = 'past_due')::int as past_due,
    (select count(*) from sessions)::int as sessions,
    (select count(*) from email_tokens)::int as email_tokens`);
  return row;
}

/** Creates the `scale` database (migrated like every other) and starts the real Worker on it. */
export async function startScaleWorker(stack) {
  const created = await fetch(`${stack.standins.neon.url}/_standin/databases`, {
    method: 'POST',
    body: JSON.stringify({ name: DATABASE }),
  });
  if (created.status !== 201) throw new Error(`creating the scale database: ${created.status}`);
  return stack.startWorker({
    label: 'scale',
    vars: { DATABASE_URL: `postgres://edgeauth:edgeauth@127.0.0.1/${DATABASE}` },
  });
}

/**
 * `worker` is a Worker on the `scale` database (startScaleWorker); `passwordHash` a PHC of `password` for
 * the probe user.
 */
export async function measureScale({ worker, neon, passwordHash, password, progress, sizes = SIZES }) {
  const sql = sqlClient(neon);
  const call = createClient(worker.url);
  const control = createClient(worker.controlUrl);
  const counter = createRoundTripCounter(neon.url, DATABASE);
  const rows = [];
  for (const size of sizes) {
    progress(`scale: seeding ${size.toLocaleString('en')} rows per table`);
    await seed(sql, size, passwordHash);
    const login = await call('/login', { method: 'POST', json: { email: PROBE_EMAIL, password } });
    const token = expectStatus(login, 200, 'scale: probe sign-in').body.token;
    const row = { size, routes: {}, cron: {} };
    for (const [label, path] of [
      ['GET /sessions', '/sessions'],
      ['GET /billing/payments/me', '/billing/payments/me?limit=20'],
    ]) {
      const get = async () => expectStatus(await call(path, { token }), 200, `scale: ${label}`);
      await counter.reset();
      await get();
      const { requests } = await counter.settle({ quietMs: 100 });
      const scans = await explainRecorded(neon, sql);
      const times = [];
      for (let i = 0; i < LATENCY_REQUESTS; i++) {
        const started = performance.now();
        await get();
        times.push(performance.now() - started);
      }
      row.routes[label] = { roundTrips: requests, p50: median(times), scans };
    }
    const runCron = async (cron) => {
      const before = await counts(sql);
      await counter.reset();
      const started = performance.now();
      expectStatus(await control(`/scheduled?cron=${encodeURIComponent(cron)}`), 200, `scale: cron ${cron}`);
      const { requests } = await counter.settle({ quietMs: 250, timeoutMs: 60_000 });
      const ms = performance.now() - started;
      const scans = await explainRecorded(neon, sql);
      const after = await counts(sql);
      return { before, after, ms, roundTrips: requests, scans };
    };
    progress(`scale: cron at ${size.toLocaleString('en')} rows`);
    const sweep = await runCron('0 * * * *');
    row.cron.sweep = {
      ...sweep,
      touched: sweep.before.due - sweep.after.due + (sweep.before.past_due - sweep.after.past_due),
    };
    const cleanups = [];
    for (let run = 0; run < (size === sizes.at(-1) ? 2 : 1); run++) {
      const cleanup = await runCron('30 3 * * *');
      cleanups.push({
        ...cleanup,
        touched: {
          sessions: cleanup.before.sessions - cleanup.after.sessions,
          email_tokens: cleanup.before.email_tokens - cleanup.after.email_tokens,
        },
      });
    }
    row.cron.cleanups = cleanups;
    rows.push(row);
  }
  return rows;
}
