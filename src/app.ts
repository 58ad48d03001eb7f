// Builds the Hono app: middleware in order, the routers, the error envelope and the OpenAPI document.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './app-env';
import { AppError } from './errors';
import { REFRESH_COOKIE } from './lib/cookies';
import { corsAllowList } from './middleware/cors';
import { handleError, notFoundHandler } from './middleware/error-handler';
import { requestId } from './middleware/request-id';
import { requestLog } from './middleware/request-log';
import { securityHeaders } from './middleware/security-headers';
import { provideServices } from './middleware/services';
import { authRoutes } from './routes/auth';
import { BILLING_PREFIX, billingRoutes, WEBHOOK_PATH } from './routes/billing';
import { docsPaths, docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { finishDocument } from './routes/openapi/document';
import { registerProblemComponents } from './routes/openapi/problem-schema';
import { validationHook } from './routes/openapi/validation';
import { pagePaths, pageRoutes } from './routes/pages';
import { wellKnownRoutes } from './routes/well-known';
import type { WorkerOptions } from './services';

export const MAX_BODY_BYTES = 64 * 1024;
/** Stripe events can carry many invoice lines. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

export function createApp(options: WorkerOptions = {}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId());
  app.use(requestLog());
  app.use(securityHeaders());
  app.use(provideServices(options));
  app.use(corsAllowList());
  const limitBody = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${maxSize} bytes`);
      },
    });
  const apiBodyLimit = limitBody(MAX_BODY_BYTES);
  const webhookBodyLimit = limitBody(MAX_WEBHOOK_BODY_BYTES);
  app.use((c, next) => (c.req.path === WEBHOOK_PATH ? webhookBodyLimit(c, next) : apiBodyLimit(c, next)));

  app.route('/', healthRoutes);
  app.route('/', wellKnownRoutes);
  app.route('/', docsRoutes);
  app.route('/', authRoutes);
  app.route('/', pageRoutes);
  app.route(BILLING_PREFIX, billingRoutes);

  for (const path of [...docsPaths, ...pagePaths]) app.openAPIRegistry.registerPath(path);
  registerProblemComponents(app.openAPIRegistry);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access token from /login, /login/code, an OAuth callback or /refresh-token.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'refreshCookie', {
    type: 'apiKey',
    in: 'cookie',
    name: REFRESH_COOKIE,
    description: 'httpOnly refresh-token cookie, sent by browsers to /refresh-token only.',
  });
  app.get('/openapi.json', (c) =>
    c.json(
      finishDocument(
        app.getOpenAPI31Document({
          openapi: '3.1.0',
          info: {
            title: `${c.var.services.config.APP_NAME} API`,
            version: '0.1.0',
            description: 'Authentication and subscription billing for SaaS products, on Cloudflare Workers.',
          },
          servers: [{ url: c.var.services.config.APP_URL }],
        }),
      ),
    ),
  );

  app.notFound(notFoundHandler(app));
  app.onError(handleError);
  return app;
}
