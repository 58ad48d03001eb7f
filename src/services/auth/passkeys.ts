// Passkeys: WebAuthn credentials that are discoverable and verify the user, so one signs in on its own
// (it satisfies a second factor too). Every ceremony signs a challenge we handed out (5 minutes, used
// once); spending it, moving the signature counter and starting the session or marking it freshly
// authenticated happen in one statement, so a replayed or raced assertion wins at most once.
import { desc, eq, sql } from 'drizzle-orm';
import { passkeys, sessions, users, webauthnChallenges } from '../../db/schema';
import type { Config } from '../../env';
import { AppError } from '../../errors';
import { randomToken, toBase64Url } from '../../lib/crypto';
import type { Services } from '../../services';
import { endHangingOff } from './account-lifecycle';
import { grantFor, runSessionStart, type SessionGrant } from './login';
import { secondFactorChanged } from './second-factors';
import { type ClientInfo, startSession } from './sessions';
import { rowToUser, type UserRow } from './users';
import {
  type AuthenticationResponse,
  COSE_ALGORITHMS,
  type RegistrationResponse,
  type RelyingParty,
  readClientData,
  rejected,
  verifyAssertion,
  verifyRegistration,
} from './webauthn';

export const PASSKEY_CHALLENGE_TTL_SECONDS = 5 * 60;
export const MAX_PASSKEYS = 20;
type Purpose = (typeof webauthnChallenges.$inferInsert)['purpose'];

const relyingParties = new WeakMap<Config, RelyingParty>();

/**
 * PASSKEY_RP_ID, else the front end's host, else the API's. Ceremonies may run on any configured origin
 * (APP_URL, FRONTEND_URL, CORS_ORIGINS) whose host is the RP ID or under it, and on PASSKEY_ORIGINS.
 */
export function relyingParty(config: Config): RelyingParty {
  let rp = relyingParties.get(config);
  if (!rp) {
    const id = config.PASSKEY_RP_ID ?? new URL(config.FRONTEND_URL ?? config.APP_URL).hostname;
    const candidates = [config.APP_URL, config.FRONTEND_URL, ...config.CORS_ORIGINS].flatMap((url) =>
      url ? [new URL(url)] : [],
    );
    const origins = candidates
      .filter(({ hostname }) => hostname === id || hostname.endsWith(`.${id}`))
      .map(({ origin }) => origin)
      .concat(config.PASSKEY_ORIGINS.map((url) => new URL(url).origin));
    rp = { id, origins: [...new Set(origins)] };
    relyingParties.set(config, rp);
  }
  return rp;
}

/** The WebAuthn user handle: the account's UUID as 16 bytes, base64url (no email or name in it). */
export const userHandleOf = (userId: string) =>
  toBase64Url(Uint8Array.from(userId.replaceAll('-', '').match(/../g) ?? [], (hex) => parseInt(hex, 16)));

function challengeStatement(
  s: Services,
  purpose: Purpose,
  userId: string | null,
  sessionId: string | null = null,
) {
  const challenge = randomToken();
  const now = s.clock.now();
  const insert = s.db.insert(webauthnChallenges).values({
    challenge,
    purpose,
    userId,
    sessionId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + PASSKEY_CHALLENGE_TTL_SECONDS * 1000),
  });
  return { challenge, insert };
}

/**
 * The CTE `spent`: the challenge the response answers, consumed if it is live and was made for this
 * purpose, account and (for reauthentication) session.
 */
function spendChallenge(
  s: Services,
  challenge: string,
  purpose: Purpose,
  userId: string | null,
  sessionId: string | null = null,
) {
  const owner = userId === null ? sql`user_id is null` : sql`user_id = ${userId}`;
  const session = sessionId === null ? sql`session_id is null` : sql`session_id = ${sessionId}`;
  return sql`spent as (
    delete from ${webauthnChallenges}
    where challenge = ${challenge} and purpose = ${purpose} and ${owner} and ${session}
      and expires_at > ${s.clock.now()}
    returning challenge)`;
}

const challengeGone = () =>
  rejected('The challenge expired or was already used; ask for new options and try again');

const credentialsOf = (s: Services, userId: string) =>
  s.db
    .select({ id: passkeys.credentialId, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, userId));

const descriptors = (rows: { id: string; transports: string[] }[]) =>
  rows.map(({ id, transports }) => ({ id, type: 'public-key' as const, transports }));

const TIMEOUT_MS = PASSKEY_CHALLENGE_TTL_SECONDS * 1000;

/** PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create (or startRegistration). */
export async function registrationOptions(s: Services, user: UserRow) {
  const rp = relyingParty(s.config);
  const { challenge, insert } = challengeStatement(s, 'register', user.id);
  const [existing] = await s.db.batch([credentialsOf(s, user.id), insert]);
  if (existing.length >= MAX_PASSKEYS) throw tooMany();
  return {
    challenge,
    rp: { id: rp.id, name: s.config.APP_NAME },
    user: { id: userHandleOf(user.id), name: user.email, displayName: user.username },
    pubKeyCredParams: COSE_ALGORITHMS.map((alg) => ({ type: 'public-key' as const, alg })),
    timeout: TIMEOUT_MS,
    excludeCredentials: descriptors(existing),
    authenticatorSelection: {
      residentKey: 'required' as const,
      requireResidentKey: true as const,
      userVerification: 'required' as const,
    },
    attestation: 'none' as const,
    extensions: { credProps: true },
  };
}

const tooMany = () => new AppError('CONFLICT', `An account holds at most ${MAX_PASSKEYS} passkeys`);
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
  transports: string[];
}

const VIEW = {
  id: passkeys.id,
  name: passkeys.name,
  createdAt: passkeys.createdAt,
  lastUsedAt: passkeys.lastUsedAt,
  backedUp: passkeys.backedUp,
  transports: passkeys.transports,
};

/** Verifies a new credential against the registration challenge it answers and stores it. */
export async function registerPasskey(
  s: Services,
  user: UserRow,
  response: RegistrationResponse,
  name: string,
): Promise<PasskeyView> {
  const { challenge } = readClientData(response.response.clientDataJSON);
  const verified = await verifyRegistration(response, challenge, relyingParty(s.config));
  const transports = (response.response.transports ?? []).filter((t) => TRANSPORTS.has(t));
  const now = s.clock.now();
  const { rows } = await s.db.execute<{
    had_challenge: boolean;
    held: number;
    created: Record<string, unknown> | null;
  }>(sql`
    with ${spendChallenge(s, challenge, 'register', user.id)},
    created as (
      insert into ${passkeys} (user_id, credential_id, public_key, algorithm, sign_count, transports, backed_up, name, created_at)
      select ${user.id}, ${verified.credentialId}, ${verified.publicKey}, ${verified.algorithm}, ${verified.signCount},
             ${sql`array[${sql.join(
               transports.map((t) => sql`${t}`),
               sql`, `,
             )}]::text[]`}, ${verified.backedUp}, ${name}, ${now}
      where exists (select 1 from spent)
        and (select count(*) from ${passkeys} where user_id = ${user.id}) < ${MAX_PASSKEYS}
      on conflict (credential_id) do nothing
      returning id, name, created_at, last_used_at, backed_up, transports
    )
    select exists (select 1 from spent) as had_challenge,
           (select count(*)::int from ${passkeys} where user_id = ${user.id}) as held,
           (select row_to_json(created) from created) as created`);
  const row = rows[0];
  if (!row?.had_challenge) throw challengeGone();
  if (!row.created) {
    if (row.held >= MAX_PASSKEYS) throw tooMany();
    throw new AppError('CONFLICT', 'This passkey is already registered');
  }
  await secondFactorChanged(s, user, 'passkey_added');
  const created = row.created;
  return {
    id: String(created.id),
    name: String(created.name),
    createdAt: new Date(String(created.created_at)),
    lastUsedAt: null,
    backedUp: created.backed_up === true,
    transports,
  };
}

export function listPasskeys(s: Services, userId: string): Promise<PasskeyView[]> {
  return s.db
    .select(VIEW)
    .from(passkeys)
    .where(eq(passkeys.userId, userId))
    .orderBy(desc(passkeys.createdAt));
}

/** Removes one of the user's passkeys; every other session ends with it (it may be a lost device's). */
export async function removePasskey(s: Services, user: UserRow, sessionId: string, passkeyId: string) {
  const now = s.clock.now();
  const { rows } = await s.db.execute<{ user_id: string }>(sql`
    with removed as (
      delete from ${passkeys} where id = ${passkeyId} and user_id = ${user.id} returning user_id
    )
    ${endHangingOff(sql`select user_id from removed`, now, {
      sessions: { keep: sessionId },
      reason: 'passkey_removed',
    })}
    select user_id from removed`);
  if (rows.length === 0) throw new AppError('NOT_FOUND', 'No such passkey');
  await secondFactorChanged(s, user, 'passkey_removed');
}

/** PublicKeyCredentialRequestOptionsJSON for a usernameless sign-in: the same for everyone. */
export async function loginOptions(s: Services) {
  const { challenge, insert } = challengeStatement(s, 'login', null);
  await insert;
  return {
    challenge,
    rpId: relyingParty(s.config).id,
    timeout: TIMEOUT_MS,
    userVerification: 'required' as const,
  };
}

/** Request options for POST /reauthenticate from this session, listing the signed-in user's passkeys. */
export async function reauthenticationOptions(s: Services, user: UserRow, sessionId: string) {
  const { challenge, insert } = challengeStatement(s, 'reauthenticate', user.id, sessionId);
  const [existing] = await s.db.batch([credentialsOf(s, user.id), insert]);
  if (existing.length === 0) throw new AppError('MFA_STATE', 'This account has no passkey');
  return {
    challenge,
    rpId: relyingParty(s.config).id,
    timeout: TIMEOUT_MS,
    userVerification: 'required' as const,
    allowCredentials: descriptors(existing),
  };
}

interface CredentialRow extends Record<string, unknown> {
  id: string;
  user_id: string;
  public_key: string;
  algorithm: number;
  sign_count: string | number;
  user: Record<string, unknown>;
}

/** The stored credential an assertion names, with its owner, and the verified counter it moves to. */
async function checkAssertion(s: Services, response: AuthenticationResponse, purpose: Purpose) {
  const { challenge } = readClientData(response.response.clientDataJSON);
  const { rows } = await s.db.execute<CredentialRow>(sql`
    select p.id, p.user_id, p.public_key, p.algorithm, p.sign_count, row_to_json(u.*) as user
    from ${passkeys} p join ${users} u on u.id = p.user_id
    where p.credential_id = ${response.rawId}`);
  const row = rows[0];
  if (!row) throw rejected('This passkey is not registered here; it may have been removed');
  const handle = response.response.userHandle;
  // A usernameless sign-in learns the account from the passkey: its user handle must name the owner.
  if ((purpose === 'login' || handle) && handle !== userHandleOf(row.user_id)) {
    throw rejected('The user handle does not match the passkey');
  }
  const stored = { publicKey: row.public_key, algorithm: row.algorithm, signCount: Number(row.sign_count) };
  const verified = await verifyAssertion(response, challenge, relyingParty(s.config), stored);
  // The counter moves only from the value we checked against: of two racing assertions one moves it.
  const counted = sql`counted as (
    update ${passkeys} set sign_count = ${verified.signCount}, backed_up = ${verified.backedUp},
      last_used_at = ${s.clock.now()}
    where id = ${row.id} and sign_count = ${stored.signCount} and exists (select 1 from spent)
    returning id)`;
  return { challenge, user: rowToUser(row.user), counted };
}

/** POST /login/passkey: a session, as a password plus second factor would give. */
export async function loginWithPasskey(
  s: Services,
  response: AuthenticationResponse,
  client: ClientInfo,
): Promise<SessionGrant> {
  const { challenge, user, counted } = await checkAssertion(s, response, 'login');
  if (!user.isActive) throw new AppError('ACCOUNT_DISABLED', 'User account is disabled');
  const now = s.clock.now();
  const session = await startSession(s.db, s.config, {
    userId: user.id,
    now,
    client,
    after: {
      ctes: sql`${spendChallenge(s, challenge, 'login', null)}, ${counted}`,
      holds: sql`exists (select 1 from counted)`,
      report: sql`exists (select 1 from spent) as had_challenge`,
    },
  });
  const { row, current } = await runSessionStart(s, user.id, session.statement);
  if (row?.session_id) return grantFor(s, user, session, now, current);
  if (!row?.had_challenge) throw challengeGone();
  throw rejected('The passkey was used by another sign-in at the same moment; try again');
}

/** POST /reauthenticate with a passkey of the signed-in user: the session is freshly authenticated. */
export async function reauthenticateWithPasskey(
  s: Services,
  { user, sessionId }: { user: UserRow; sessionId: string },
  response: AuthenticationResponse,
): Promise<Date> {
  const checked = await checkAssertion(s, response, 'reauthenticate');
  if (checked.user.id !== user.id) throw rejected('This passkey belongs to another account');
  const now = s.clock.now();
  const { rows } = await s.db.execute<{
    had_challenge: boolean;
    counted: boolean;
    session_id: string | null;
  }>(sql`
    with ${spendChallenge(s, checked.challenge, 'reauthenticate', user.id, sessionId)}, ${checked.counted},
    marked as (
      update ${sessions} set authenticated_at = ${now}
      where id = ${sessionId} and user_id = ${user.id} and revoked_at is null
        and exists (select 1 from counted)
      returning id
    )
    select exists (select 1 from spent) as had_challenge, exists (select 1 from counted) as counted,
           (select id from marked) as session_id`);
  const row = rows[0];
  if (row?.session_id) return now;
  if (!row?.had_challenge) throw challengeGone();
  if (!row.counted) throw rejected('The passkey was used at the same moment elsewhere; try again');
  throw new AppError('SESSION_REVOKED', 'This session has been signed out');
}
