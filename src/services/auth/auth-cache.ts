// The bounded-staleness cache in front of the session check and the account reads that ride with it
// (AUTH_CACHE_TTL_SECONDS). It lives in isolate memory, one per Worker (src/worker.ts): a hit costs no
// I/O at all, where the Cache API or Redis would cost a subrequest or a network round trip per read.
//
// The bound: an entry is served for at most the TTL after it was read from the database, measured on
// the Worker's clock. Whatever changes an account in this isolate forgets that user's entries at once;
// other isolates see the change when their entry runs out, no later than the TTL.

/** Users kept at most (a few KiB each); the least recently stored is dropped first. */
const MAX_USERS = 5_000;
/** Entries per user at most: one per session read, plus the account reads. */
const MAX_ENTRIES_PER_USER = 32;

interface UserEntries {
  /** The ticket of the last forget(): reads that began before it must not be stored. */
  forgottenAt: number;
  values: Map<string, { value: unknown; storedAt: number }>;
}

export class AuthCache {
  private readonly users = new Map<string, UserEntries>();
  private tickets = 0;
  /** Reads that began before this ticket are not stored: a user forgotten then may have been evicted. */
  private floor = 0;

  constructor(private readonly maxUsers = MAX_USERS) {}

  /** Taken before a database read whose result may be stored with set(). */
  ticket(): number {
    return this.tickets;
  }

  /** The value stored under `key` for `userId`, when it was read less than `ttlMs` before `now`. */
  get<T>(userId: string, key: string, now: number, ttlMs: number): T | undefined {
    const found = this.users.get(userId)?.values.get(key);
    if (!found) return undefined;
    const age = now - found.storedAt;
    return age >= 0 && age < ttlMs ? (found.value as T) : undefined;
  }

  /**
   * Stores a value read from the database after `ticket` was taken, unless the user was forgotten since
   * (the read may predate the change that made them forgotten).
   */
  set(userId: string, key: string, value: unknown, ticket: number, now: number): void {
    if (ticket < this.floor) return;
    let entries = this.users.get(userId);
    if (entries && entries.forgottenAt > ticket) return;
    if (entries) {
      this.users.delete(userId); // re-inserted below: the Map's order is the eviction order
    } else {
      entries = { forgottenAt: 0, values: new Map() };
      this.evictIfFull();
    }
    if (!entries.values.has(key) && entries.values.size >= MAX_ENTRIES_PER_USER) {
      entries.values.delete(entries.values.keys().next().value as string);
    }
    entries.values.set(key, { value, storedAt: now });
    this.users.set(userId, entries);
  }

  /** Drops everything stored for the user; reads already under way are not stored either. */
  forget(userId: string): void {
    this.tickets += 1;
    const entries = this.users.get(userId);
    if (entries) {
      entries.values.clear();
      entries.forgottenAt = this.tickets;
    } else {
      this.evictIfFull();
      this.users.set(userId, { forgottenAt: this.tickets, values: new Map() });
    }
  }

  /** Drops everything (a change that affects every user, such as a plan's features). */
  forgetAll(): void {
    this.tickets += 1;
    this.floor = this.tickets;
    this.users.clear();
  }

  private evictIfFull(): void {
    if (this.users.size < this.maxUsers) return;
    const [oldestId, oldest] = this.users.entries().next().value as [string, UserEntries];
    this.users.delete(oldestId);
    this.floor = Math.max(this.floor, oldest.forgottenAt);
  }
}
