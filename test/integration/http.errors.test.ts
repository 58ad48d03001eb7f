// The error envelope through the real entry: unknown routes, wrong methods, and (on a route added to a
// freshly built app) malformed JSON, oversized bodies, validation failures and unexpected errors.

import { createExecutionContext } from 'cloudflare:test';
import { createRoute, z } from '@hono/zod-openapi';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, MAX_BODY_BYTES } from '../../src/app';
import { expectProblem } from '../support/problem';
import { API_ORIGIN, api, testEnv } from '../support/worker';

describe('routing errors through the Worker entry', () => {
  it('answers an unknown path with a 404 problem', async () => {
    const body = await expectProblem(await api('/no/such/route'), 404, 'NOT_FOUND');
    expect(body.detail).toBe('No route for GET /no/such/route');
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const response = await api('/health', { method: 'DELETE' });
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    await expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('request body errors on a validated route', () => {
  const app = createApp();
  const route = createRoute({
    method: 'post',
    path: '/test/echo',
    request: {
      body: {
        content: {
          'application/json': { schema: z.object({ email: z.email(), age: z.number().int().min(18) }) },
        },
      },
    },
    responses: { 200: { description: 'echo' } },
  });
  app.openapi(route, (c) => c.json(c.req.valid('json'), 200));
  app.get('/test/boom', () => {
    throw new Error('database password is hunter2');
  });
  const call = (path: string, init: RequestInit) =>
    app.fetch(new Request(`${API_ORIGIN}${path}`, init), testEnv(), createExecutionContext());
  const post = (body: string) =>
    call('/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  afterEach(() => vi.restoreAllMocks());

  it('passes a valid body through', async () => {
    const response = await post(JSON.stringify({ email: 'a@b.io', age: 30 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ email: 'a@b.io', age: 30 });
  });

  it('answers malformed JSON with 400', async () => {
    const body = await expectProblem(await post('{"email": '), 400, 'MALFORMED_REQUEST');
    expect(body.detail).toBe('Malformed JSON in request body');
  });

  it('answers a body over the limit with 413', async () => {
    const huge = JSON.stringify({ email: 'a@b.io', age: 30, pad: 'x'.repeat(MAX_BODY_BYTES) });
    await expectProblem(await post(huge), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers invalid fields with 422 and one entry per field', async () => {
    const body = await expectProblem(
      await post(JSON.stringify({ email: 'nope', age: 12.5 })),
      422,
      'VALIDATION_FAILED',
    );
    expect(body.errors).toEqual([
      { path: 'email', message: expect.any(String) },
      { path: 'age', message: expect.any(String) },
    ]);
  });

  it('answers a JSON body that is not an object with 422', async () => {
    const body = await expectProblem(await post('[1,2]'), 422, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ path: 'json', message: expect.any(String) }]);
  });

  it('answers an unexpected error with a 500 that reveals nothing, and logs the stack without the message', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = await call('/test/boom', {});
    const body = await expectProblem(response, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(body.detail).toBe('Something went wrong on our side');
    const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)));
    const line = logged.find((entry) => entry.msg === 'unhandled error');
    expect(line).toMatchObject({
      request_id: body.request_id,
      error: { kind: 'internal', name: 'Error', stack: expect.stringMatching(/^Error\n\s+at /) },
    });
    expect(JSON.stringify(line)).not.toContain('hunter2');
  });
});

describe('invalid configuration', () => {
  afterEach(() => vi.restoreAllMocks());

  it('fails every request with a bare 500 and logs which variable is wrong', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = await api('/health', {}, testEnv({ ACCESS_SECRET_KEY: 'too-short' }));
    const body = await expectProblem(response, 500, 'INTERNAL_ERROR');
    expect(JSON.stringify(body)).not.toContain('ACCESS_SECRET_KEY');
    const logged = errors.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(logged.find((line) => line.msg === 'configuration invalid')?.error).toMatchObject({
      kind: 'internal',
      name: 'ConfigError',
      detail: expect.stringMatching(/ACCESS_SECRET_KEY: must be at least 32 characters/),
    });
  });
});
