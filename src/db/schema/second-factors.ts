// Second factors: a TOTP authenticator (its secret sealed), its one-use recovery codes, the short-lived
// challenge a sign-in leaves when the account needs its second factor before a session starts, and
// passkeys with the WebAuthn challenges their ceremonies sign.
import {
  bigint,
  boolean,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { sessions } from './sessions';
import { users } from './users';

export const totpFactors = pgTable('totp_factors', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  // AES-GCM sealed base32 secret (lib/crypto seal); never stored or logged in clear.
  sealedSecret: text('sealed_secret').notNull(),
  // Null while set up but not confirmed: an unconfirmed authenticator is not required at sign-in.
  confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
  // The last 30-second step a code was accepted for: a code is refused again within its window.
  lastUsedStep: bigint('last_used_step', { mode: 'number' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // Keyed hash of the code; the code itself is shown once and never stored.
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('recovery_codes_user_id_idx').on(t.userId),
    uniqueIndex('recovery_codes_code_hash_key').on(t.codeHash),
  ],
);

export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // Keyed hash of the opaque mfa_token handed to the client.
    tokenHash: text('token_hash').notNull(),
    attempts: integer('attempts').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('mfa_challenges_token_hash_key').on(t.tokenHash),
    index('mfa_challenges_user_id_idx').on(t.userId),
    index('mfa_challenges_expires_at_idx').on(t.expiresAt),
  ],
);

// A WebAuthn credential (a passkey): discoverable, user-verifying, so it signs in on its own.
export const passkeys = pgTable(
  'passkeys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // The credential ID the authenticator chose, base64url.
    credentialId: text('credential_id').notNull(),
    // The COSE public key as registered, base64url, and its COSE algorithm (-8 EdDSA, -7 ES256, -257 RS256).
    publicKey: text('public_key').notNull(),
    algorithm: integer('algorithm').notNull(),
    // The authenticator's signature counter; 0 forever for most synced passkeys.
    signCount: bigint('sign_count', { mode: 'number' }).notNull().default(0),
    transports: text('transports').array().notNull().default([]),
    // The backup-state flag at the last use: the passkey is synced (iCloud Keychain, Google Password Manager).
    backedUp: boolean('backed_up').notNull().default(false),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('passkeys_credential_id_key').on(t.credentialId),
    index('passkeys_user_id_idx').on(t.userId),
  ],
);

// A WebAuthn challenge handed out with creation or request options: 5 minutes, used once.
export const webauthnChallenges = pgTable(
  'webauthn_challenges',
  {
    // The challenge itself, base64url: it is public (the browser signs over it), so stored as is.
    challenge: text('challenge').primaryKey(),
    purpose: text('purpose', { enum: ['register', 'login', 'reauthenticate'] }).notNull(),
    // Who asked, for registration and reauthentication; null for usernameless sign-in.
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    // For reauthentication: the session the assertion will mark fresh, and no other.
    sessionId: uuid('session_id').references(() => sessions.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webauthn_challenges_expires_at_idx').on(t.expiresAt)],
);
