// Social sign-in: start (state, PKCE verifier and nonce sealed into one short-lived cookie), then the
// callback (state checked once, code exchanged, profile mapped to an account). Accounts are keyed by the
// provider's user id; an existing account is linked by email only when the provider verified that email.
import { generateCodeVerifier, generateState } from 'arctic';
import { and, eq, sql } from 'drizzle-orm';
import { oauthAccounts, users } from '../../db/schema';
import type { Config } from '../../env';
import { AppError } from '../../errors';
import { constantTimeEqual, randomToken, seal, unseal } from '../../lib/crypto';
import { withDeadline } from '../../lib/deadline';
import type { Services } from '../../services';
import { endHangingOff, everything } from '../auth/account-lifecycle';
import { type SignInOutcome, signIn } from '../auth/login';
import type { ClientInfo } from '../auth/sessions';
import { findUserByEmail, lockIdentity, type UserRow } from '../auth/users';
import type { OAuthProvider, ProviderName, ProviderProfile } from './providers';

export const OAUTH_COOKIE_TTL_SECONDS = 600;
const SEAL_PURPOSE = 'oauth-flow';

interface FlowState {
  provider: ProviderName;
  state: string;
  codeVerifier: string;
  nonce: string;
  redirectTo: string | null;
  expiresAt: number;
}

/**
 * `redirect_to` may only lead to the front end or a listed origin; a bare path is taken relative to
 * FRONTEND_URL. The target is parsed before it is judged: the URL parser drops TAB, CR and LF, trims
 * other control characters and reads a backslash as `/`, so only the parsed origin says where a browser goes.
 * Userinfo is refused too: a front-end link never needs it, and `https://app@evil` is a phishing shape.
 */
export function allowedRedirect(
  config: Pick<Config, 'FRONTEND_URL' | 'CORS_ORIGINS'>,
  target?: string,
): string | null {
  if (!target) return null;
  const refuse = () => new AppError('INVALID_REDIRECT', 'redirect_to must point to the front end');
  let url: URL;
  try {
    url = config.FRONTEND_URL ? new URL(target, config.FRONTEND_URL) : new URL(target);
  } catch {
    throw refuse();
  }
  const origins = new Set(config.CORS_ORIGINS.map((origin) => new URL(origin).origin));
  if (config.FRONTEND_URL) origins.add(new URL(config.FRONTEND_URL).origin);
  const web = url.protocol === 'http:' || url.protocol === 'https:';
  if (!web || !origins.has(url.origin) || url.username || url.password) throw refuse();
  return url.toString();
}

export async function startOAuth(s: Services, name: ProviderName, redirectTo?: string) {
  const provider = s.oauth.get(name);
  const flow: FlowState = {
    provider: name,
    state: generateState(),
    codeVerifier: generateCodeVerifier(),
    nonce: randomToken(16),
    redirectTo: allowedRedirect(s.config, redirectTo),
    expiresAt: s.clock.now().getTime() + OAUTH_COOKIE_TTL_SECONDS * 1000,
  };
  return {
    url: provider.authorizationUrl(flow).toString(),
    cookie: await seal(s.config.REFRESH_SECRET_KEY, SEAL_PURPOSE, JSON.stringify(flow)),
  };
}

async function openFlow(s: Services, name: ProviderName, cookie: string | undefined): Promise<FlowState> {
  const invalid = (detail: string) => new AppError('OAUTH_CALLBACK_INVALID', detail);
  if (!cookie) throw invalid('The sign-in session is missing or expired; start again');
  const opened = await unseal(s.config.REFRESH_SECRET_KEY, SEAL_PURPOSE, cookie);
  const flow = opened ? (JSON.parse(opened) as FlowState) : null;
  if (!flow || flow.provider !== name || flow.expiresAt < s.clock.now().getTime()) {
    throw invalid('The sign-in session is missing or expired; start again');
  }
  return flow;
}

/** A state is good for one callback: a replayed callback is refused even with the cookie. */
async function consumeState(s: Services, state: string): Promise<void> {
  let first: string | null;
  try {
    first = await withDeadline(
      s.redis.set(`edgeauth:oauth-state:${state}`, '1', { nx: true, ex: OAUTH_COOKIE_TTL_SECONDS }),
      1500,
    );
  } catch {
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'Sign-in is temporarily unavailable');
  }
  if (first !== 'OK') throw new AppError('OAUTH_CALLBACK_INVALID', 'This sign-in callback was already used');
}

export async function completeOAuth(
  s: Services,
  name: ProviderName,
  callback: { code?: string | undefined; state?: string | undefined; error?: string | undefined },
  cookie: string | undefined,
  client: ClientInfo,
): Promise<{ grant: SignInOutcome; redirectTo: string | null }> {
  const provider = s.oauth.get(name);
  if (callback.error) throw new AppError('OAUTH_DENIED', `${provider.label} sign-in was not completed`);
  if (!callback.code || !callback.state)
    throw new AppError('OAUTH_CALLBACK_INVALID', 'Invalid OAuth callback');
  const flow = await openFlow(s, name, cookie);
  const encoder = new TextEncoder();
  if (!constantTimeEqual(encoder.encode(flow.state), encoder.encode(callback.state))) {
    throw new AppError('OAUTH_CALLBACK_INVALID', 'Invalid OAuth state');
  }
  await consumeState(s, flow.state);
  const profile = await provider.signIn(callback.code, flow);
  const user = await resolveAccount(s, provider, profile);
  return { grant: await signIn(s, user, client), redirectTo: flow.redirectTo };
}

async function findLinkedUser(
  s: Services,
  provider: ProviderName,
  providerUserId: string,
): Promise<UserRow | null> {
  const [row] = await s.db
    .select({ user: users })
    .from(oauthAccounts)
    .innerJoin(users, eq(users.id, oauthAccounts.userId))
    .where(and(eq(oauthAccounts.provider, provider), eq(oauthAccounts.providerUserId, providerUserId)))
    .limit(1);
  return row?.user ?? null;
}

function assertActive(user: UserRow): UserRow {
  if (!user.isActive) throw new AppError('ACCOUNT_DISABLED', 'User account is disabled');
  return user;
}

/** Maps a provider profile to our account: known identity, new account, or a link by provider-verified email. */
export async function resolveAccount(
  s: Services,
  provider: OAuthProvider,
  profile: ProviderProfile,
): Promise<UserRow> {
  const linked = await findLinkedUser(s, provider.name, profile.providerUserId);
  if (linked) return assertActive(linked);
  if (!profile.email || !profile.emailVerified) {
    throw new AppError(
      'OAUTH_EMAIL_NOT_VERIFIED',
      `Your ${provider.label} account has no verified email address`,
    );
  }
  const existing = await findUserByEmail(s.db, profile.email);
  if (existing) return linkExisting(s, provider, profile, existing);
  return createFromProfile(s, provider, profile);
}

/**
 * Links the provider identity to the account that has its (provider-verified) email. If the account's
 * email was never verified, this sign-in is the first proof of the mailbox: whoever registered the
 * address before keeps nothing (every earlier session, link and code ends, and the password set before
 * the proof is dropped; the owner sets one through a reset). All in one statement.
 */
async function linkExisting(s: Services, provider: OAuthProvider, profile: ProviderProfile, user: UserRow) {
  assertActive(user);
  const now = s.clock.now();
  const { rows } = await s.db.execute<{ linked: boolean }>(sql`
    with target as (select id, is_verified from ${users} where id = ${user.id} and is_active),
    linked as (
      insert into ${oauthAccounts} (user_id, provider, provider_user_id, email)
      select id, ${provider.name}, ${profile.providerUserId}, ${profile.email} from target
      on conflict do nothing
      returning user_id
    ),
    first_proof as (select id from target where not is_verified and id in (select user_id from linked)),
    proven as (
      update ${users} set is_verified = true, password_hash = null, updated_at = ${now}
      where id in (select id from first_proof)
      returning id
    )
    ${endHangingOff(sql`select id from first_proof`, now, everything('mailbox_proven'))}
    select exists (select 1 from linked) as linked`);
  if (!user.isVerified) s.authCache.forget(user.id); // a first proof may have ended every session
  if (!rows[0]?.linked) {
    const raced = await findLinkedUser(s, provider.name, profile.providerUserId);
    if (raced?.id === user.id) return raced;
    throw new AppError(
      'OAUTH_ACCOUNT_EXISTS',
      `This account is already linked to another ${provider.label} account`,
    );
  }
  return user.isVerified ? user : { ...user, isVerified: true, passwordHash: null, updatedAt: now };
}

function usernameCandidates(hint: string): string[] {
  const slug =
    hint
      .normalize('NFKD')
      .toLowerCase()
      .replace(/\s+/g, '_')
      .replace(/[^a-z0-9_.-]/g, '')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 24) || 'user';
  const base = slug.length >= 3 ? slug : `${slug}user`;
  const suffix = () => String(crypto.getRandomValues(new Uint32Array(1))[0]! % 10_000).padStart(4, '0');
  return [base, ...Array.from({ length: 5 }, () => `${base}${suffix()}`)];
}

/**
 * New verified account plus its provider identity in one statement (after lockIdentity, so a sign-up of the
 * same email or username still committing is waited for); retries on a taken username.
 */
async function createFromProfile(
  s: Services,
  provider: OAuthProvider,
  profile: ProviderProfile,
): Promise<UserRow> {
  const email = profile.email!;
  for (const username of usernameCandidates(profile.usernameHint)) {
    const [, { rows }] = await s.db.batch([
      s.db.execute(lockIdentity(email, username)),
      s.db.execute<{ id: string }>(sql`
        with created as (
          insert into ${users} (email, username, password_hash, is_verified)
          values (${email}, ${username}, null, true)
          on conflict do nothing
          returning id
        ),
        identity as (
          insert into ${oauthAccounts} (user_id, provider, provider_user_id, email)
          select id, ${provider.name}, ${profile.providerUserId}, ${email} from created
          on conflict do nothing
          returning id
        )
        select id from created`),
    ]);
    if (rows[0]) {
      const created = await findLinkedUser(s, provider.name, profile.providerUserId);
      if (created) return created;
    }
    // Not created: either the username is taken (try the next) or the email was just registered.
    const concurrent = await findUserByEmail(s.db, email);
    if (concurrent) return resolveAccount(s, provider, profile);
  }
  throw new AppError('CONFLICT', 'Could not choose a free username; try again');
}
