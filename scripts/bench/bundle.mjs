// Bundle size and startup: `wrangler deploy --dry-run --minify` (wrangler's own upload totals, and esbuild's
// metafile for the contributors by package), and `wrangler check startup` (a V8 CPU profile of the Worker's
// startup in local workerd), each beside a Worker with one bare Hono route built the same way.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const BARE_WORKER = 'scripts/bench/bare-worker.ts';
const STARTUP_RUNS = 3;

async function wrangler(root, args) {
  const { stdout, stderr } = await run(path.join(root, 'node_modules/.bin/wrangler'), args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return `${stdout}\n${stderr}`;
}

/** "Total Upload: 1299.87 KiB / gzip: 304.59 KiB", what Cloudflare counts against the size limit. */
async function uploadSize(root, outdir, extra = []) {
  const output = await wrangler(root, ['deploy', '--dry-run', '--minify', '--outdir', outdir, ...extra]);
  const match = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  if (!match) throw new Error(`no upload size in wrangler's output:\n${output}`);
  return { rawKiB: Number(match[1]), gzipKiB: Number(match[2]) };
}

function packageOf(input) {
  const at = input.lastIndexOf('node_modules/');
  if (at === -1)
    return input.startsWith('src/') || input.startsWith('emails/') ? 'edgeauth (src, emails)' : input;
  const rest = input.slice(at + 'node_modules/'.length).split('/');
  const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  // The weight the issue asks about separately: zod's translated error messages.
  if (name === 'zod' && rest.includes('locales')) return 'zod (locales)';
  return name;
}

/** Minified bytes per package, largest first, from esbuild's metafile. */
function contributors(metafile) {
  const meta = JSON.parse(readFileSync(metafile, 'utf8'));
  const [, output] = Object.entries(meta.outputs).find(([name]) => name.endsWith('.js'));
  const totals = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return {
    totalBytes: output.bytes,
    packages: [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
  };
}

/** Wall span of the startup profile: script compile and evaluation of the global scope, in local workerd. */
async function startupMs(root, tmpDir, label, deployArgs) {
  const spans = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const outfile = path.join(tmpDir, `startup-${label}-${i}.cpuprofile`);
    await wrangler(root, ['check', 'startup', `--args=${deployArgs}`, '--outfile', outfile]);
    const profile = JSON.parse(readFileSync(outfile, 'utf8'));
    spans.push((profile.endTime - profile.startTime) / 1000);
  }
  return spans.sort((a, b) => a - b)[Math.floor(spans.length / 2)];
}

/** edgeauth, the bare Hono Worker and the better-auth reference Worker (`peerWorker`), built the same way. */
export async function measureBundle({ root, tmpDir, peerWorker }) {
  const metafile = path.join(tmpDir, 'bundle-meta.json');
  const app = await uploadSize(root, path.join(tmpDir, 'bundle'), ['--metafile', metafile]);
  const bare = await uploadSize(root, path.join(tmpDir, 'bundle-bare'), [BARE_WORKER]);
  const peer = await uploadSize(root, path.join(tmpDir, 'bundle-peer'), [peerWorker]);
  return {
    app,
    bare,
    peer,
    contributors: contributors(metafile),
    startup: {
      appMs: await startupMs(root, tmpDir, 'app', '--minify'),
      bareMs: await startupMs(root, tmpDir, 'bare', `${BARE_WORKER} --minify`),
      peerMs: await startupMs(root, tmpDir, 'peer', `${peerWorker} --minify`),
      runs: STARTUP_RUNS,
    },
  };
}
