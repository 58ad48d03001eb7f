// Cross-cutting behaviour every response shares: request ids, security headers, CORS, the request log.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, testEnv } from '../support/worker';

afterEach(() => vi.restoreAllMocks());

describe('request id', () => {
  it('generates one when the caller sends none', async () => {
    const response = await api('/health');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a sane caller id', async () => {
    const response = await api('/health', { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42.a:b');
  });

  it('replaces an id that could corrupt logs', async () => {
    const response = await api('/health', { headers: { 'x-request-id': 'evil"\\value with spaces' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('security headers', () => {
  it('are on success and error responses alike', async () => {
    for (const response of [await api('/health'), await api('/nope')]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin with credentials allowed', async () => {
    const response = await api('/health', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.edgeauth.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.edgeauth.test');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('lets a preflight ask for the refresh-token transport header', async () => {
    const response = await api('/login', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-refresh-token-transport',
      },
    });
    expect(response.status).toBe(204);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'x-refresh-token-transport']));
  });

  it('sends no CORS headers to a caller without an Origin, and still varies on it', async () => {
    const response = await api('/.well-known/openid-configuration');
    expect(response.status).toBe(200);
    expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('does not allow an origin that is not listed', async () => {
    const response = await api('/health', { headers: { origin: 'https://evil.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exposes the request id to allowed origins', async () => {
    const response = await api('/health', { headers: { origin: 'http://localhost:5173' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
  });
});

describe('request log', () => {
  const requestLines = (spy: { mock: { calls: unknown[][] } }) =>
    spy.mock.calls
      .map(([line]) => JSON.parse(String(line)) as Record<string, unknown>)
      .filter((entry) => entry.msg === 'request');

  it('writes one JSON line per request at info with the route pattern, never the query string', async () => {
    const lines = vi.spyOn(console, 'info').mockImplementation(() => {});
    const response = await api('/health?token=super-secret-value', {
      headers: { 'x-request-id': 'log-test-1' },
    });
    expect(response.status).toBe(200);
    const request = requestLines(lines);
    expect(request).toHaveLength(1);
    expect(request[0]).toMatchObject({
      level: 'info',
      method: 'GET',
      route: '/health',
      status: 200,
      request_id: 'log-test-1',
      duration_ms: expect.any(Number),
    });
    expect(lines.mock.calls.join('\n')).not.toContain('super-secret-value');
  });

  it('logs a refused request at info with its user-facing request id, and a 5xx at error', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const refused = await api('/me', { headers: { 'x-request-id': 'log-test-2' } });
    expect(refused.status).toBe(401);
    expect(requestLines(info)).toEqual([
      expect.objectContaining({ level: 'info', route: '/me', status: 401, request_id: 'log-test-2' }),
    ]);
    const broken = await api(
      '/health',
      { headers: { 'x-request-id': 'log-test-3' } },
      testEnv({ AUTH_CACHE_TTL_SECONDS: '999' }),
    );
    expect(broken.status).toBe(500);
    expect(requestLines(errors)).toEqual([
      expect.objectContaining({ level: 'error', status: 500, request_id: 'log-test-3' }),
    ]);
  });

  it('at LOG_LEVEL=warn drops the lines of requests that neither failed on our side nor were slow', async () => {
    const lines = ['log', 'info', 'debug'].map((method) =>
      vi.spyOn(console, method as 'info').mockImplementation(() => {}),
    );
    const env = testEnv({ LOG_LEVEL: 'warn' });
    expect((await api('/health', {}, env)).status).toBe(200);
    expect((await api('/me', {}, env)).status).toBe(401);
    expect(lines.flatMap((spy) => requestLines(spy))).toEqual([]);
  });

  it('refuses an unknown LOG_LEVEL as a configuration error naming it', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = await api('/health', {}, testEnv({ LOG_LEVEL: 'verbose' }));
    expect(response.status).toBe(500);
    const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(logged.find((line) => line.msg === 'configuration invalid')?.error.detail).toMatch(/LOG_LEVEL/);
  });
});
