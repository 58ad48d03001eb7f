// The bounded-staleness cache in front of the session check and the account reads that ride with it
// (AUTH_CACHE_TTL_SECONDS). It lives in isolate memory, one per Worker (src/worker.ts): a hit costs no
// I/O at all, where the Cache API or Redis would cost a subrequest or a network round trip per read.
//
// The bound: an entry is served for at most the TTL after it was read from the database, measured on
// the Worker's clock. Whatever changes an account in this isolate forgets that user's entries: the
// service right after the statement that commits the change, the auth middleware again when the request
// ends. Other isolates see the change when their entry runs out, no later than the TTL.

/**
 * The memory bound, in rows: a session check weighs 1, a list its length, a user's record 1 more. About
 * a kilobyte a row (a users row with its session), so some tens of MiB at most in a 128 MiB isolate. The
 * least recently stored users are dropped first.
 */
export const MAX_WEIGHT = 20_000;
/** A value heavier than this (a long list of sessions) is not stored: it would push out everyone else. */
export const MAX_ENTRY_WEIGHT = 100;
/** Entries per user at most: one per session read, plus the account reads. */
const MAX_ENTRIES_PER_USER = 32;

interface Entry {
  value: unknown;
  storedAt: number;
  weight: number;
}

interface UserEntries {
  /** The ticket of the last forget(): reads that began before it must not be stored. */
  forgottenAt: number;
  values: Map<string, Entry>;
}

export class AuthCache {
  private readonly users = new Map<string, UserEntries>();
  /** The sum of every entry's weight, plus one per user record. */
  private weight = 0;
  private tickets = 0;
  /** Reads that began before this ticket are not stored: a user forgotten then may have been evicted. */
  private floor = 0;

  constructor(private readonly maxWeight = MAX_WEIGHT) {}

  /** The weight held now (see MAX_WEIGHT). */
  get storedWeight(): number {
    return this.weight;
  }

  /** Taken before a database read whose result may be stored with set(). */
  ticket(): number {
    return this.tickets;
  }

  /** The value stored under `key` for `userId`, when it was read less than `ttlMs` before `now`. */
  get<T>(userId: string, key: string, now: number, ttlMs: number): T | undefined {
    const entries = this.users.get(userId);
    const found = entries?.values.get(key);
    if (!entries || !found) return undefined;
    const age = now - found.storedAt;
    if (age >= 0 && age < ttlMs) return found.value as T;
    if (age >= ttlMs) this.drop(entries, key, found);
    return undefined;
  }

  /**
   * Stores a value read from the database after `ticket` was taken, unless the user was forgotten since
   * (the read may predate the change that made them forgotten). `weight`: the rows it holds.
   */
  set(userId: string, key: string, value: unknown, ticket: number, now: number, weight = 1): void {
    if (ticket < this.floor || weight > MAX_ENTRY_WEIGHT) return;
    let entries = this.users.get(userId);
    if (entries && entries.forgottenAt > ticket) return;
    if (entries) {
      this.users.delete(userId); // re-inserted below: the Map's order is the eviction order
    } else {
      entries = { forgottenAt: 0, values: new Map() };
      this.weight += 1;
    }
    const previous = entries.values.get(key);
    if (previous) this.drop(entries, key, previous);
    if (entries.values.size >= MAX_ENTRIES_PER_USER) {
      const [oldestKey, oldest] = entries.values.entries().next().value as [string, Entry];
      this.drop(entries, oldestKey, oldest);
    }
    entries.values.set(key, { value, storedAt: now, weight });
    this.weight += weight;
    this.users.set(userId, entries);
    this.evictWhileOver();
  }

  /** Drops everything stored for the user; reads already under way are not stored either. */
  forget(userId: string): void {
    this.tickets += 1;
    const entries = this.users.get(userId);
    if (entries) {
      for (const [key, entry] of entries.values) this.drop(entries, key, entry);
      entries.forgottenAt = this.tickets;
    } else {
      this.users.set(userId, { forgottenAt: this.tickets, values: new Map() });
      this.weight += 1;
      this.evictWhileOver();
    }
  }

  /** Drops everything (a change that affects every user, such as a plan's features). */
  forgetAll(): void {
    this.tickets += 1;
    this.floor = this.tickets;
    this.users.clear();
    this.weight = 0;
  }

  private drop(entries: UserEntries, key: string, entry: Entry): void {
    entries.values.delete(key);
    this.weight -= entry.weight;
  }

  /** Drops the least recently stored users, never the one just stored, until the weight fits. */
  private evictWhileOver(): void {
    while (this.weight > this.maxWeight && this.users.size > 1) {
      const [oldestId, oldest] = this.users.entries().next().value as [string, UserEntries];
      this.users.delete(oldestId);
      for (const entry of oldest.values.values()) this.weight -= entry.weight;
      this.weight -= 1;
      this.floor = Math.max(this.floor, oldest.forgottenAt);
    }
  }
}
