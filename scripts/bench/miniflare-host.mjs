// One benchmark Worker on Miniflare, in a process of its own: `node miniflare-host.mjs <settings.json>`.
// The Worker is the bundle `wrangler deploy --dry-run` built, with wrangler.toml's bindings (queues, assets,
// compatibility) as wrangler reads them, and the settings' vars on top. One workerd serves it directly
// (no proxy in front, no inspector attached), and the Worker's console lines go to a file through one
// buffered stream: what a log line costs here is what it costs the Worker, as with Workers Logs in
// production. `wrangler dev` instead passes every line through its logger, which also appends it to a
// debug file with a mutex, a mkdir and an appendFile each (about 0.45 ms of CPU per line), and that cost
// landed on whichever Worker logged.
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { workerOptions } = unstable_getMiniflareWorkerOptions(settings.config);
const lines = createWriteStream(settings.logFile, { flags: 'a' });
// The bundle's modules, listed as wrangler lists them: its entry, and the .wasm files written beside it.
// (Miniflare could find them by reading the imports, but gives up on a dynamic import() of a computed name.)
const bundleDir = path.dirname(settings.scriptPath);
const modules = [
  { type: 'ESModule', path: settings.scriptPath },
  ...readdirSync(bundleDir)
    .filter((name) => name.endsWith('.wasm'))
    .map((name) => ({ type: 'CompiledWasm', path: path.join(bundleDir, name) })),
];

const miniflare = new Miniflare({
  host: '127.0.0.1',
  port: settings.port,
  defaultPersistRoot: settings.persistTo,
  // Only Miniflare's own warnings; no line per request of its own.
  log: new Log(LogLevel.WARN),
  logRequests: false,
  handleStructuredLogs: ({ level, message }) => {
    lines.write(`${level}: ${message}\n`);
  },
  // No lookup of a real request's `cf` object (this machine has no route to Cloudflare).
  cf: false,
  workers: [
    {
      ...workerOptions,
      name: 'bench',
      modules,
      // Module names are relative to this, as the bundle imports its .wasm files by name.
      modulesRoot: bundleDir,
      bindings: { ...workerOptions.bindings, ...settings.vars },
    },
  ],
});

// Cron triggers on request: GET /scheduled?cron=... on the control port runs the Worker's scheduled handler
// and answers 200 once it succeeded (500 if it threw). Miniflare's own /cdn-cgi/handler/scheduled reaches
// the static-assets router in front of the Worker, which has no scheduled handler. It listens before the
// Worker is ready, so once the Worker answers, so does this.
const control = http.createServer(async (request, response) => {
  const url = new URL(request.url, 'http://control');
  if (url.pathname !== '/scheduled') {
    response.writeHead(404).end();
    return;
  }
  const worker = await miniflare.getWorker('bench');
  const { outcome } = await worker.scheduled({ cron: url.searchParams.get('cron') ?? undefined });
  response.writeHead(outcome === 'ok' ? 200 : 500, { 'content-type': 'text/plain' }).end(outcome);
});
control.listen(settings.controlPort, '127.0.0.1');
await miniflare.ready;
console.log(`ready on ${settings.port}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    control.close();
    await miniflare.dispose().catch(() => {});
    lines.end(() => process.exit(0));
  });
}
