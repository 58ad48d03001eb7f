// Operation ids, the shared problem responses every operation refers to, and the problem responses a
// route declares, as they come out of the generator.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { finishDocument, operationIdFor } from '../../src/routes/openapi/document';
import { problemResponses, registerProblemComponents } from '../../src/routes/openapi/problem-schema';

describe('operationIdFor', () => {
  it('derives readable, stable ids from method and path', () => {
    expect(operationIdFor('post', '/login')).toBe('postLogin');
    expect(operationIdFor('get', '/billing/plans/{id}')).toBe('getBillingPlansById');
    expect(operationIdFor('post', '/refresh-token')).toBe('postRefreshToken');
    expect(operationIdFor('get', '/auth/social/callback/google')).toBe('getAuthSocialCallbackGoogle');
  });
});

describe('finishDocument', () => {
  type Paths = Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;

  it('adds ids and references to the shared 405/413/500 without overriding what a route declared', () => {
    const doc = finishDocument({
      paths: {
        '/me': {
          get: { responses: { 200: { description: 'ok' }, 500: { description: 'own' } } },
          parameters: [],
        },
      },
    });
    const operation = (doc.paths as unknown as Paths)['/me']!.get!;
    expect(operation.operationId).toBe('getMe');
    expect(operation.responses).toEqual({
      200: { description: 'ok' },
      405: { $ref: '#/components/responses/MethodNotAllowed' },
      413: { $ref: '#/components/responses/PayloadTooLarge' },
      500: { description: 'own' },
    });
  });

  it('adds the shared 415 to operations with a body', () => {
    const doc = finishDocument({
      paths: { '/login': { post: { requestBody: {}, responses: { 200: { description: 'ok' } } } } },
    });
    const operation = (doc.paths as unknown as Paths)['/login']!.post!;
    expect(Object.keys(operation.responses)).toEqual(['200', '405', '413', '415', '500']);
    expect(operation.responses['415']).toEqual({ $ref: '#/components/responses/UnsupportedMediaType' });
  });
});

describe('problem responses, generated', () => {
  function generate() {
    const app = new OpenAPIHono();
    const route = createRoute({
      method: 'get',
      path: '/things/{id}',
      request: { params: z.object({ id: z.uuid() }) },
      responses: {
        200: { description: 'The thing' },
        ...problemResponses('UNAUTHORIZED', 'TOKEN_EXPIRED', 'NOT_FOUND', 'RATE_LIMITED'),
      },
    });
    app.openapi(route, (c) => c.body(null, 200));
    registerProblemComponents(app.openAPIRegistry);
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'test', version: '1' } });
    return JSON.parse(JSON.stringify(finishDocument(doc)));
  }

  it('are shared components, one per set of codes answered with a status', () => {
    const doc = generate();
    const responses = doc.paths['/things/{id}'].get.responses;
    expect(responses['401']).toEqual({ $ref: '#/components/responses/TokenExpiredOrUnauthorized' });
    expect(responses['404']).toEqual({ $ref: '#/components/responses/NotFound' });
    expect(responses['429']).toEqual({ $ref: '#/components/responses/RateLimited' });
  });

  it('are JSON Schema narrowed to their status and codes, not dumped zod objects', () => {
    const doc = generate();
    expect(JSON.stringify(doc)).not.toMatch(/"(def|shape|_zod)":/);
    const unauthorized = doc.components.responses.TokenExpiredOrUnauthorized;
    expect(unauthorized.content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/TokenExpiredOrUnauthorizedProblem',
    });
    expect(doc.components.schemas.TokenExpiredOrUnauthorizedProblem).toEqual({
      allOf: [
        { $ref: '#/components/schemas/Problem' },
        {
          type: 'object',
          properties: {
            status: { type: 'number', enum: [401] },
            code: { type: 'string', enum: ['TOKEN_EXPIRED', 'UNAUTHORIZED'] },
          },
        },
      ],
    });
    expect(doc.components.schemas.NotFoundProblem.allOf[1].properties.code.enum).toEqual(['NOT_FOUND']);
  });

  it('show an example of each code, with that code and its own status', () => {
    const doc = generate();
    const unauthorized = doc.components.responses.TokenExpiredOrUnauthorized;
    expect(unauthorized.content['application/problem+json'].examples).toEqual({
      UNAUTHORIZED: { $ref: '#/components/examples/Unauthorized' },
      TOKEN_EXPIRED: { $ref: '#/components/examples/TokenExpired' },
    });
    expect(doc.components.examples.TokenExpired.value).toEqual({
      type: 'about:blank',
      title: 'Token expired',
      status: 401,
      detail: 'Token expired',
      code: 'TOKEN_EXPIRED',
      request_id: expect.any(String),
    });
    expect(doc.components.examples.NotFound.value).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    // Only the codes in use have an example, so none is an unused component.
    expect(Object.keys(doc.components.examples).sort()).toEqual(
      [
        'InternalError',
        'MethodNotAllowed',
        'NotFound',
        'PayloadTooLarge',
        'RateLimited',
        'TokenExpired',
        'Unauthorized',
        'UnsupportedMediaType',
      ].sort(),
    );
  });

  it('carry the headers of their status by reference, and the shared ones are registered', () => {
    const doc = generate();
    const responses = doc.components.responses;
    expect(responses.TokenExpiredOrUnauthorized.headers).toEqual({
      'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' },
    });
    expect(Object.keys(responses.RateLimited.headers)).toEqual([
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ]);
    expect(doc.components.responses.MethodNotAllowed).toEqual({
      description: 'METHOD_NOT_ALLOWED: Method not allowed',
      headers: { Allow: { $ref: '#/components/headers/Allow' } },
      content: {
        'application/problem+json': {
          schema: { $ref: '#/components/schemas/MethodNotAllowedProblem' },
          examples: { METHOD_NOT_ALLOWED: { $ref: '#/components/examples/MethodNotAllowed' } },
        },
      },
    });
  });
});
