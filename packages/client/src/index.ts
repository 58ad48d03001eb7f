// The package's main entry (`@edgeauth/client`): the client, its error and the API's route types.
// Other entry points (e.g. access-token verification for servers) get their own file and `exports` key.
export {
  createEdgeauthClient,
  type EdgeauthClient,
  type EdgeauthClientOptions,
  type Passkey,
  type Reauthenticated,
  type SecondFactorProof,
  type SecondFactorRequired,
  type SessionGrant,
  type SignInResult,
  type TokenStore,
  type Tokens,
} from './client.js';
export { EdgeauthError, type Problem } from './errors.js';
export type { components, operations, paths } from './openapi.js';
