// The few HTML pages a browser lands on when no front end is configured: the result of a verification
// link, a form to choose a new password, and where Checkout returns. Scripts come from static assets.

import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../app-env';
import { escapeHtml } from '../lib/html';
import { noAuthRequired } from './openapi/helpers';

const CSP =
  "default-src 'self'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'; frame-ancestors 'none'";

export function htmlPage(c: Context<AppEnv>, status: ContentfulStatusCode, title: string, body: string) {
  const appName = escapeHtml(c.var.services.config.APP_NAME);
  c.header('Content-Security-Policy', CSP);
  return c.html(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${appName}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1d2330}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1rem;font-size:1rem}#result{margin-top:1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}<p><small>${appName}</small></p></body></html>`,
    status,
  );
}

/** Browsers following an emailed link ask for HTML; API clients get JSON. */
export function wantsHtml(c: Context<AppEnv>): boolean {
  const accept = c.req.header('accept') ?? '';
  return accept.includes('text/html');
}

export const pageRoutes = new Hono<AppEnv>()
  .get('/billing/success', (c) =>
    htmlPage(
      c,
      200,
      'Payment received',
      '<p>Thanks! Your subscription starts as soon as the payment is confirmed.</p>',
    ),
  )
  .get('/billing/cancel', (c) => htmlPage(c, 200, 'Checkout cancelled', '<p>Nothing was charged.</p>'))
  .get('/reset-password', (c) =>
    htmlPage(
      c,
      200,
      'Choose a new password',
      `<form id="reset">
<label for="password">New password (8 to 128 characters)</label>
<input id="password" name="password" type="password" minlength="8" maxlength="128" autocomplete="new-password" required>
<label for="confirm">Repeat it</label>
<input id="confirm" name="confirm" type="password" minlength="8" maxlength="128" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>
<p id="result" role="status"></p>
<script src="/pages/reset-password.js"></script>`,
    ),
  );

const htmlResponse = (description: string) => ({
  200: { description, content: { 'text/html': { schema: { type: 'string' as const } } } },
});

/** OpenAPI entries for the pages above (plain Hono routes, documented here). */
export const pagePaths = [
  {
    method: 'get' as const,
    path: '/billing/success',
    tags: ['Pages'],
    summary: 'Where Stripe Checkout returns after paying (when no FRONTEND_URL is set)',
    security: noAuthRequired,
    responses: htmlResponse('A short confirmation page'),
  },
  {
    method: 'get' as const,
    path: '/billing/cancel',
    tags: ['Pages'],
    summary: 'Where Stripe Checkout returns when cancelled (when no FRONTEND_URL is set)',
    security: noAuthRequired,
    responses: htmlResponse('A short notice page'),
  },
  {
    method: 'get' as const,
    path: '/reset-password',
    tags: ['Pages'],
    summary: 'The password reset form the emailed link opens (when no FRONTEND_URL is set)',
    security: noAuthRequired,
    responses: htmlResponse('A form that posts to /new-password'),
  },
];
