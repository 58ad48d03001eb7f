// The floor for bundle size and startup time: a Worker with one bare Hono route and nothing else.
import { Hono } from 'hono';

export default new Hono().get('/bench/bare', (c) => c.json({ ok: true }));
