// The test accounts the OAuth stand-in's consent pages offer, and the ones a form or a test may type in.
import {
  derivedDigits,
  EMAIL,
  InputError,
  isObject,
  optionalBoolean,
  optionalString,
  requireString,
} from './oauth-kit.mjs';

// --- Identities ----------------------------------------------------------------------------------------------

export const DEFAULT_IDENTITIES = {
  google: [
    { sub: '100000000000000000001', email: 'alice@example.com', email_verified: true, name: 'Alice Example' },
    { sub: '100000000000000000002', email: 'bob@example.com', email_verified: false, name: 'Bob Unverified' },
    { sub: '100000000000000000003', email: 'carol@example.com', email_verified: true, name: 'Carol Example' },
  ],
  github: [
    {
      id: 1000001,
      login: 'octo-alice',
      name: 'Alice Octo',
      emails: [{ email: 'alice@example.com', primary: true, verified: true, visibility: 'public' }],
    },
    {
      id: 1000002,
      login: 'octo-bob',
      name: 'Bob Octo',
      emails: [
        { email: 'bob@example.com', primary: true, verified: false, visibility: 'private' },
        { email: 'bob.work@example.com', primary: false, verified: true, visibility: null },
      ],
    },
    {
      id: 1000003,
      login: 'octo-carol',
      name: null,
      emails: [{ email: 'carol@example.com', primary: true, verified: false, visibility: 'private' }],
    },
  ],
};

/**
 * Fills what a test left out: the stable id is derived from the email, so signing in again with the same
 * typed address yields the same account, as with the real providers.
 * @param {any} input @returns {GoogleIdentity}
 */
export function googleIdentity(input) {
  if (!isObject(input)) throw new InputError('identity must be an object');
  const email = requireString(input.email, 'identity.email');
  if (!EMAIL.test(email)) throw new InputError('identity.email must be an email address');
  const name = optionalString(input.name, 'identity.name') ?? email.split('@')[0];
  const [first, ...rest] = name.split(' ');
  /** @type {GoogleIdentity} */
  const identity = {
    sub: optionalString(input.sub, 'identity.sub') ?? `1${derivedDigits(`google:${email}`, 20)}`,
    email,
    email_verified: optionalBoolean(input.email_verified, 'identity.email_verified') ?? true,
    name,
    given_name: optionalString(input.given_name, 'identity.given_name') ?? first,
  };
  const family = optionalString(input.family_name, 'identity.family_name') ?? (rest.join(' ') || undefined);
  if (family) identity.family_name = family;
  for (const field of /** @type {const} */ (['picture', 'hd'])) {
    const value = optionalString(input[field], `identity.${field}`);
    if (value) identity[field] = value;
  }
  return identity;
}

/** @param {any} input @returns {GitHubIdentity} */
export function githubIdentity(input) {
  if (!isObject(input)) throw new InputError('identity must be an object');
  if (!Array.isArray(input.emails)) throw new InputError('identity.emails must be an array');
  const emails = input.emails.map(githubEmail);
  if (emails.filter((e) => e.primary).length > 1)
    throw new InputError('identity.emails has several primaries');
  const fallbackLogin = (emails[0]?.email.split('@')[0] ?? '').replace(/[^A-Za-z0-9-]/g, '-');
  const login = optionalString(input.login, 'identity.login') ?? fallbackLogin;
  if (!/^[A-Za-z0-9-]{1,39}$/.test(login)) throw new InputError('identity.login must be a GitHub login');
  if (input.id !== undefined && !(Number.isSafeInteger(input.id) && input.id > 0))
    throw new InputError('identity.id must be a positive integer');
  /** @type {GitHubIdentity} */
  const identity = {
    id: input.id ?? 10_000_000 + Number(derivedDigits(`github:${login.toLowerCase()}`, 7)),
    login,
    name: input.name === null ? null : (optionalString(input.name, 'identity.name') ?? null),
    emails,
  };
  const avatar = optionalString(input.avatar_url, 'identity.avatar_url');
  if (avatar) identity.avatar_url = avatar;
  return identity;
}

/** @param {any} input @returns {GitHubEmail} */
function githubEmail(input) {
  if (!isObject(input)) throw new InputError('identity.emails[] must be objects');
  const email = requireString(input.email, 'identity.emails[].email');
  const visibility = input.visibility ?? null;
  if (![null, 'public', 'private'].includes(visibility))
    throw new InputError("identity.emails[].visibility must be 'public', 'private' or null");
  return {
    email,
    primary: optionalBoolean(input.primary, 'identity.emails[].primary') ?? false,
    verified: optionalBoolean(input.verified, 'identity.emails[].verified') ?? false,
    visibility,
  };
}

/**
 * The consent form: one of the listed accounts, or a custom one typed in.
 * @param {ProviderName} provider @param {URLSearchParams} form @param {Identity[]} listed @returns {Identity}
 */
export function identityFromForm(provider, form, listed) {
  const choice = form.get('identity') ?? '0';
  if (choice !== 'custom') {
    const identity = listed[Number(choice)];
    if (!identity) throw new InputError('Choose one of the test accounts.');
    return identity;
  }
  const email = (form.get('email') ?? '').trim();
  if (!EMAIL.test(email)) throw new InputError('Type an email address for the custom identity.');
  const name = (form.get('name') ?? '').trim() || undefined;
  if (provider === 'google') {
    return googleIdentity({ email, name, email_verified: form.get('email_verified') !== 'no' });
  }
  const login = (form.get('login') ?? '').trim() || undefined;
  const status = form.get('email_status') ?? 'verified';
  const visibility = status === 'verified' && form.has('public_email') ? 'public' : 'private';
  /** @type {GitHubEmail[]} */
  const emails = [{ email, primary: true, verified: status === 'verified', visibility }];
  // "Primary unverified" still has a verified address, to tell it apart from "no verified email at all".
  if (status === 'unverified') {
    const [local, domain] = email.split('@');
    emails.push({ email: `${local}+verified@${domain}`, primary: false, verified: true, visibility: null });
  }
  return githubIdentity({ login, name, emails });
}

/** @param {Identity} identity */
export function identityLabel(identity) {
  if ('sub' in identity)
    return `${identity.name} <${identity.email}>${identity.email_verified ? '' : ' (unverified)'}`;
  const primary = identity.emails.find((e) => e.primary);
  const verified = identity.emails.some((e) => e.verified);
  const status = !primary
    ? 'no email'
    : primary.verified
      ? ''
      : verified
        ? ' (primary unverified)'
        : ' (no verified email)';
  return `@${identity.login}${identity.name ? ` ${identity.name}` : ''} <${primary?.email ?? ''}>${status}`;
}
