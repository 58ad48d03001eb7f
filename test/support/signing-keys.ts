// ACCESS_SIGNING_KEYS values as the tests read and forge them: base64url of a JWK set, newest first.
import type { JWK } from 'jose';

export type KeyWithId = JWK & { kid: string };

export function decodeKeySet(value: string): KeyWithId[] {
  return (JSON.parse(atob(value.replaceAll('-', '+').replaceAll('_', '/'))) as { keys: KeyWithId[] }).keys;
}

/** Any JSON as an ACCESS_SIGNING_KEYS value, valid or not: `{ keys }` base64url. */
export const encodeKeySet = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');

/** The first (private, signing) key of a value. */
export const signingKeyOf = (value: string): KeyWithId => decodeKeySet(value)[0]!;
