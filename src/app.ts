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
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { pageRoutes } from './routes/pages';
import { validationHook } from './routes/validation';

export const MAX_BODY_BYTES = 64 * 1024;

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId());
  app.use(requestLog());
  app.use(securityHeaders());
  app.use(provideServices());
  app.use(corsAllowList());
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );

  app.route('/', healthRoutes);
  app.route('/', docsRoutes);
  app.route('/', authRoutes);
  app.route('/', pageRoutes);

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
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: `${c.var.services.config.APP_NAME} API`,
      version: '0.1.0',
      description: 'Authentication and subscription billing for SaaS products, on Cloudflare Workers.',
    },
    servers: [{ url: c.var.services.config.APP_URL }],
  }));

  app.notFound(notFoundHandler(app));
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof createApp>;
