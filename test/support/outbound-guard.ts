// Every request the Worker (or a test) sends leaves workerd through the guard Worker below. Loopback is
// where the stand-ins and any test server listen, so it passes; any other host is one nobody stood up: the
// request is answered 502 at once and the run fails at the end (global-setup.ts), naming it.
// The list lives on globalThis because vitest.config.ts and global-setup.ts load this file separately.

export const GUARD_WORKER = 'outbound-guard';
/** Refused like any other host but not held against the run: test/unit/outbound-guard.test.ts uses it. */
export const PROBE_HOST = 'outbound-guard-probe.invalid';

const REFUSED = Symbol.for('edgeauth.test.refusedOutbound');

function refusedList(): string[] {
  const holder = globalThis as { [REFUSED]?: string[] };
  holder[REFUSED] ??= [];
  return holder[REFUSED];
}

const GUARD_SCRIPT = `
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (LOOPBACK.has(url.hostname)) return fetch(request);
    const what = request.method + ' ' + url.origin + url.pathname;
    if (url.hostname !== ${JSON.stringify(PROBE_HOST)}) await env.REFUSED.fetch('http://guard/', { method: 'POST', body: what });
    return new Response('outbound guard: no test stood up ' + url.host, { status: 502, headers: { 'x-outbound-guard': 'refused' } });
  },
};`;

/** The Miniflare worker that every other worker's outbound requests go through. */
export const outboundGuardWorker = {
  name: GUARD_WORKER,
  modules: true,
  script: GUARD_SCRIPT,
  compatibilityDate: '2026-05-01',
  serviceBindings: {
    // Runs in Node, beside global-setup.ts.
    async REFUSED(request: Request) {
      const what = await request.text();
      refusedList().push(what);
      console.error(`outbound guard: refused ${what}`);
      return new Response(null, { status: 204 });
    },
  },
};

/** The requests the guard refused during this run, one line each. */
export function refusedOutbound(): string[] {
  return [...refusedList()];
}
