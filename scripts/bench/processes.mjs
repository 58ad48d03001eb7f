// Starts `wrangler dev` for the benchmark (free ports, throwaway state) and stops it with every process it
// spawned, so a run leaves nothing behind. Also reads workerd's resident memory from /proc.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

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

function argsOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
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
      // wrangler is still starting
    }
    await sleep(250);
  }
  return false;
}

/**
 * `wrangler dev` wired like scripts/dev.mjs (every setting as --var), on the given ports, with its local
 * state in `persistTo`; `script` replaces wrangler.toml's entry. Resolves once `healthPath` answers 200.
 * Its output goes to `logFile`. The inspector gets a free port too, so a running `npm run dev` is no clash.
 */
export async function startWranglerDev({
  root,
  script,
  port,
  inspectorPort,
  persistTo,
  vars,
  healthPath = '/health',
  logFile,
  timeoutMs = 120_000,
}) {
  const args = [
    'dev',
    ...(script ? [script] : []),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistTo,
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    ...Object.entries(vars).flatMap(([key, value]) => ['--var', `${key}:${value}`]),
  ];
  // Its own process group, so stopping it reaches the wrangler CLI and workerd below the bin wrapper.
  // wrangler writes to the file itself: its output (a line or two per request) never passes through this
  // process, which also generates the load.
  const output = openSync(logFile, 'w');
  const child = spawn(path.join(root, 'node_modules/.bin/wrangler'), args, {
    cwd: root,
    detached: true,
    stdio: ['ignore', output, output],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      NO_COLOR: '1',
      // No debugger on the Worker, as in production. wrangler dev attaches its DevTools inspector to the
      // Worker, and an attached inspector turns each console call into a DevTools message: 0.25 ms of
      // workerd CPU per log line here. wrangler's one switch for it is the variable VS Code's debug terminal
      // sets (wrangler then leaves the Worker to that debugger).
      VSCODE_INSPECTOR_OPTIONS: '{}',
    },
  });
  closeSync(output);
  const outputLines = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
  const url = `http://127.0.0.1:${port}`;
  const server = {
    url,
    child,
    /** wrangler dev watches the sources: an edit during the run swaps the Worker under the benchmark. */
    get reloads() {
      return outputLines().filter((line) => line.includes('Reloading local server')).length;
    },
    /**
     * The workerd running the Worker. wrangler dev starts two: one for its proxy, listening on our port,
     * and one for the user Worker, listening on a port of its own choosing.
     */
    workerdPid() {
      const workerd = descendantsOf(child.pid).filter(
        (p) => p.command === 'workerd' && !argsOf(p.pid).includes(`--socket-addr=entry=127.0.0.1:${port}`),
      );
      if (workerd.length !== 1) throw new Error(`expected one user-Worker workerd, found ${workerd.length}`);
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
      if (left.length > 0) throw new Error(`wrangler dev left processes behind: ${left.join(', ')}`);
    },
  };
  if (!(await waitForHealth(`${url}${healthPath}`, child, timeoutMs))) {
    await server.stop();
    throw new Error(
      `wrangler dev did not become healthy at ${url}${healthPath}:\n${outputLines().slice(-50).join('\n')}`,
    );
  }
  return server;
}
