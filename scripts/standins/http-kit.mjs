// Small HTTP helpers shared by the local stand-ins: body reading, JSON replies, listening, fault injection.

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export function readBody(req, limit = MAX_BODY_BYTES) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError(`body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

export function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address()));
  });
}

/**
 * Fault injection for tests: `POST /_standin/fault {"mode", "count"?, "delay_ms"?}`.
 * down: drop the connection; slow: delay; error: 500; malformed: 200 with a non-JSON body;
 * none: back to normal. `count` limits how many requests the fault applies to.
 */
export function createFaults() {
  let fault = { mode: 'none' };

  return {
    set(next) {
      fault = {
        mode: next.mode ?? 'none',
        remaining: next.count ?? Number.POSITIVE_INFINITY,
        delayMs: next.delay_ms ?? 0,
      };
    },
    async configure(req, res) {
      let next;
      try {
        next = JSON.parse(await readBody(req));
      } catch {
        return sendJson(res, 400, { message: 'fault must be JSON' });
      }
      if (!['none', 'down', 'slow', 'error', 'malformed'].includes(next?.mode)) {
        return sendJson(res, 400, { message: 'mode must be none|down|slow|error|malformed' });
      }
      this.set(next);
      return sendJson(res, 200, { ok: true });
    },
    /** Returns true when the fault answered (or dropped) the request itself. */
    async apply(req, res) {
      if (fault.mode === 'none' || fault.remaining <= 0) return false;
      fault.remaining -= 1;
      switch (fault.mode) {
        case 'down':
          req.socket.destroy();
          return true;
        case 'slow':
          await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
          return false;
        case 'error':
          sendJson(res, 500, { message: 'injected fault' });
          return true;
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('not json');
          return true;
        default:
          return false;
      }
    },
  };
}
