// Row counts of every table a request could write, in one round trip: compared before and after a
// request to prove that a refused (or failed) request wrote nothing.
import { getTableName, sql } from 'drizzle-orm';
import {
  checkouts,
  emailTokens,
  loginCodes,
  oauthAccounts,
  payments,
  plans,
  refreshTokens,
  sessions,
  stripeEvents,
  subscriptions,
  users,
} from '../../src/db/schema';
import { db } from './accounts';

const TABLES = [
  users,
  sessions,
  refreshTokens,
  emailTokens,
  loginCodes,
  plans,
  subscriptions,
  payments,
  stripeEvents,
  oauthAccounts,
  checkouts,
].map(getTableName);

export type RowCounts = Record<string, number>;

export async function rowCounts(): Promise<RowCounts> {
  const columns = TABLES.map((table) => `(select count(*) from "${table}")::int as "${table}"`).join(', ');
  const result = await db().execute(sql.raw(`select ${columns}`));
  const [row] = result.rows as RowCounts[];
  if (!row) throw new Error('row counts: no answer');
  return Object.fromEntries(TABLES.map((table) => [table, Number(row[table])]));
}

/** The tables whose row count changed, as `table: before -> after`. */
export function rowCountChanges(before: RowCounts, after: RowCounts): string[] {
  return TABLES.filter((table) => before[table] !== after[table]).map(
    (table) => `${table}: ${before[table]} -> ${after[table]}`,
  );
}
