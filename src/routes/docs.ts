// The interactive API reference at /docs: Swagger UI served from this Worker's own static assets
// (copied from swagger-ui-dist at build time), so it works offline and pins no CDN.
import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { escapeHtml } from '../lib/html';
import { noAuthRequired } from './openapi/helpers';

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} API reference</title>
<link rel="stylesheet" href="/docs/vendor/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/docs/vendor/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

export const docsRoutes = new Hono<AppEnv>().get('/docs', (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  c.header(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'",
  );
  return c.html(page(escapeHtml(c.var.services.config.APP_NAME)));
});

/** OpenAPI entries for the reference itself. */
export const docsPaths = [
  {
    method: 'get' as const,
    path: '/docs',
    tags: ['Operations'],
    summary: 'This API reference (Swagger UI)',
    security: noAuthRequired,
    responses: {
      200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' as const } } } },
    },
  },
  {
    method: 'get' as const,
    path: '/openapi.json',
    tags: ['Operations'],
    summary: 'This OpenAPI 3.1 document',
    security: noAuthRequired,
    responses: {
      200: {
        description: 'The document',
        content: { 'application/json': { schema: { type: 'object' as const } } },
      },
    },
  },
];
