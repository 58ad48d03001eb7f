// A resource server as the client package's README describes it: another Worker that verifies edgeauth's
// access tokens with `@edgeauth/client/server` (the JWK set fetched once from edgeauth, then cached) and
// gates a feature on the token's entitlements claim, with no call to edgeauth per request.
// Run by `npm run bench` beside the benchmark Worker; ISSUER, AUDIENCE and JWKS_URL name that Worker.
import { Hono } from 'hono';
import { AccessTokenError, hasFeature, verifyAccessToken } from '../../packages/client/src/server';

interface Bindings {
  ISSUER: string;
  AUDIENCE: string;
  JWKS_URL: string;
}

export default new Hono<{ Bindings: Bindings }>()
  .get('/bench/bare', (c) => c.json({ ok: true }))
  .get('/read', async (c) => {
    const token = c.req.header('authorization')?.replace(/^Bearer +/i, '') ?? '';
    try {
      const claims = await verifyAccessToken(token, {
        issuer: c.env.ISSUER,
        audience: c.env.AUDIENCE,
        jwksUrl: c.env.JWKS_URL,
      });
      return c.json({ user: claims.sub, exports: hasFeature(claims, 'exports') });
    } catch (error) {
      if (error instanceof AccessTokenError) return c.json({ error: error.reason }, 401);
      throw error;
    }
  });
