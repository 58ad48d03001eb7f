// The public key documents resource servers read: GET /.well-known/jwks.json (the keys that verify access
// tokens) and GET /.well-known/openid-configuration (the issuer and where its keys are). Both are public
// and cacheable for JWKS_MAX_AGE_SECONDS, well under the time a retired key stays published.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { publishedKeys } from '../services/auth/access-tokens';
import { jsonResponse, noAuthRequired } from './openapi/helpers';

export const JWKS_PATH = '/.well-known/jwks.json';
export const JWKS_MAX_AGE_SECONDS = 300;

const JwkSchema = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string(),
    y: z.string(),
    kid: z.string(),
    alg: z.literal('ES256'),
    use: z.literal('sig'),
  })
  .openapi('Jwk');

const JwksSchema = z.object({ keys: z.array(JwkSchema) }).openapi('Jwks', {
  description: 'The current signing key first, then retired keys whose tokens may still be alive.',
  example: {
    keys: [
      {
        kty: 'EC',
        crv: 'P-256',
        x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
        y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
        kid: '20261203T150405Z-1a2b3c4d',
        alg: 'ES256',
        use: 'sig',
      },
    ],
  },
});

const DiscoverySchema = z
  .object({ issuer: z.string(), jwks_uri: z.string() })
  .openapi('OpenIdConfiguration', {
    example: {
      issuer: 'https://auth.example.com',
      jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
    },
  });

const jwks = createRoute({
  method: 'get',
  path: JWKS_PATH,
  tags: ['Keys'],
  summary: 'The public keys that verify access tokens',
  description:
    'Verify an access token with the key named by its `kid`: `alg` ES256, `iss` APP_URL, `aud` ' +
    '`<APP_NAME>:api`. Empty with ACCESS_TOKEN_ALG=HS256. Cacheable for 5 minutes; a token whose `kid` is ' +
    'not here is not ours, or signed by a key retired after every token it signed expired.',
  security: noAuthRequired,
  responses: { 200: jsonResponse(JwksSchema, 'The JWK set') },
});

const discovery = createRoute({
  method: 'get',
  path: '/.well-known/openid-configuration',
  tags: ['Keys'],
  summary: 'Where the issuer publishes its keys',
  security: noAuthRequired,
  responses: { 200: jsonResponse(DiscoverySchema, 'The issuer and its jwks_uri') },
});

/** Public documents: every cache may keep them a while. */
function publicDocument(c: Context<AppEnv>) {
  c.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
}

export const wellKnownRoutes = new OpenAPIHono<AppEnv>()
  .openapi(jwks, async (c) => {
    publicDocument(c);
    return c.json(await publishedKeys(c.var.services.config), 200);
  })
  .openapi(discovery, (c) => {
    publicDocument(c);
    const issuer = c.var.services.config.APP_URL;
    return c.json({ issuer, jwks_uri: `${issuer.replace(/\/$/, '')}${JWKS_PATH}` }, 200);
  });
