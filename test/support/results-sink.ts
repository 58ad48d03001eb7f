// Runs in Node (started by global-setup.ts): test files inside workerd cannot touch the disk, so they PUT
// their reports (figures for the README, summaries of long properties) here to land in test-results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const RESULTS_DIR = 'test-results';
const NAME = /^\/([a-z0-9][a-z0-9.-]*\.json)$/;

export async function startResultsSink(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const name = NAME.exec(req.url ?? '')?.[1];
    if (req.method !== 'PUT' || !name) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        await mkdir(RESULTS_DIR, { recursive: true });
        await writeFile(join(RESULTS_DIR, name), Buffer.concat(chunks));
        res.writeHead(204).end();
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
