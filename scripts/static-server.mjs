// A tiny static file server for pages the browser checks load (the client check's page, the test SPA):
// serves one directory, GET only, nothing outside it. It listens on 127.0.0.1 and is addressed as
// http://localhost:<port>: its own origin, but the same site as the API under `npm run dev`.
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript' };

/**
 * @param {{ dir: string, pages?: Record<string, string> }} options pages: URL path → HTML served as is
 * @returns {Promise<{ origin: string, close: () => Promise<void> }>}
 */
export function serveDirectory({ dir, pages = {} }) {
  const server = http.createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET') return response.writeHead(405).end();
    if (pathname in pages) {
      return response.writeHead(200, { 'content-type': TYPES['.html'] }).end(pages[pathname]);
    }
    const file = path.join(dir, decodeURIComponent(pathname));
    const type = TYPES[path.extname(file)];
    const inside = file.startsWith(dir + path.sep);
    if (!inside || !type || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      return response.writeHead(404).end();
    }
    response.writeHead(200, { 'content-type': type });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        origin: `http://localhost:${port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
