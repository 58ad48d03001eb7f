// Starts a benchmark Worker (free ports, throwaway state) and stops it with every process it spawned, so a
// run leaves nothing behind. Also reads workerd's resident memory from /proc.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A port nobody listens on right now (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function parentOf(pid) {
  try {
    // The command name is in parentheses and may contain spaces: fields after the last ')' are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Every live process below `root`, found by walking parent ids in /proc. */
export function descendantsOf(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(entry);
    if (parent === undefined) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(Number(entry));
  }
  const found = [];
  const pending = [root];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop()) ?? []) {
      found.push({ pid: child, command: commandOf(child) });
      pending.push(child);
    }
  }
  return found;
}

/** Resident set size of one process in bytes (VmRSS in /proc/<pid>/status). */
export function residentBytes(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Running, not a zombie waiting to be reaped (a container's init may never reap it). */
const isAlive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForHealth(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return true;
    } catch {
      // still starting
    }
    await sleep(250);
  }
  return false;
}

const bundles = new Map();

/**
 * The Worker as `wrangler deploy --dry-run` bundles it (wrangler.toml's alias and module rules; `script`
 * replaces its entry), once per entry for the run. Resolves to the bundle's entry module, which wrangler
 * names after `script` (index.js for wrangler.toml's own entry).
 */
function bundle({ root, script, outdir }) {
  const key = script ?? '';
  const entry = script ? `${path.basename(script, path.extname(script))}.js` : 'index.js';
  if (!bundles.has(key)) {
    bundles.set(
      key,
      run(
        path.join(root, 'node_modules/.bin/wrangler'),
        ['deploy', '--dry-run', '--outdir', outdir, ...(script ? [script] : [])],
        { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } },
      ).then(() => path.join(outdir, entry)),
    );
  }
  return bundles.get(key);
}

/**
 * One Worker on Miniflare (scripts/bench/miniflare-host.mjs, a process of its own) on `port`, with
 * wrangler.toml's bindings, `vars` on top and its local state in `persistTo`; `script` replaces wrangler.toml's
 * entry. Resolves once `healthPath` answers 200. Its output and the Worker's log lines go to `logFile`.
 */
export async function startLocalWorker({
  root,
  script,
  port,
  persistTo,
  vars,
  healthPath = '/health',
  logFile,
  buildDir,
  timeoutMs = 120_000,
}) {
  const scriptPath = await bundle({ root, script, outdir: path.join(buildDir, bundles.size.toString()) });
  const controlPort = await freePort();
  const settingsFile = `${persistTo}.json`;
  writeFileSync(
    settingsFile,
    JSON.stringify({
      config: path.join(root, 'wrangler.toml'),
      scriptPath,
      port,
      controlPort,
      persistTo,
      vars,
      logFile,
    }),
  );
  // Appending, as the host appends the Worker's lines to the same file.
  writeFileSync(logFile, '');
  const output = openSync(logFile, 'a');
  // Its own process group, so stopping it reaches workerd below it.
  const child = spawn(process.execPath, [path.join(root, 'scripts/bench/miniflare-host.mjs'), settingsFile], {
    cwd: root,
    detached: true,
    stdio: ['ignore', output, output],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  });
  closeSync(output);
  const outputLines = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
  const url = `http://127.0.0.1:${port}`;
  const server = {
    url,
    /** GET /scheduled?cron=... here runs the Worker's cron handler (200 once it succeeded). */
    controlUrl: `http://127.0.0.1:${controlPort}`,
    child,
    /** The workerd running the Worker (Miniflare starts one, which also answers on our port). */
    workerdPid() {
      const workerd = descendantsOf(child.pid).filter((p) => p.command === 'workerd');
      if (workerd.length !== 1) throw new Error(`expected one workerd, found ${workerd.length}`);
      return workerd[0].pid;
    },
    /** For process 'exit' handlers, which cannot wait: SIGKILL the whole group at once. */
    killSync() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    },
    async stop() {
      const spawned = [child.pid, ...descendantsOf(child.pid).map((p) => p.pid)];
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {}
      }
      for (let i = 0; i < 50 && spawned.some(isAlive); i++) await sleep(100);
      for (const pid of spawned.filter(isAlive)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      for (let i = 0; i < 20 && spawned.some(isAlive); i++) await sleep(100);
      const left = spawned.filter(isAlive);
      if (left.length > 0) throw new Error(`the Worker left processes behind: ${left.join(', ')}`);
    },
  };
  if (!(await waitForHealth(`${url}${healthPath}`, child, timeoutMs))) {
    await server.stop();
    throw new Error(
      `the Worker did not become healthy at ${url}${healthPath}:\n${outputLines().slice(-50).join('\n')}`,
    );
  }
  return server;
}
