// Operation ids and shared responses added to every operation of the generated document.
import { describe, expect, it } from 'vitest';
import { finishDocument, operationIdFor } from '../../src/routes/openapi-document';

describe('operationIdFor', () => {
  it('derives readable, stable ids from method and path', () => {
    expect(operationIdFor('post', '/login')).toBe('postLogin');
    expect(operationIdFor('get', '/billing/plans/{id}')).toBe('getBillingPlansById');
    expect(operationIdFor('post', '/refresh-token')).toBe('postRefreshToken');
    expect(operationIdFor('get', '/auth/social/callback/google')).toBe('getAuthSocialCallbackGoogle');
  });
});

describe('finishDocument', () => {
  it('adds ids and the 405/413/500 problems without overriding what a route declared', () => {
    const doc = finishDocument({
      paths: { '/me': { get: { responses: { 200: { description: 'ok' } } }, parameters: [] } },
    });
    type Paths = Record<string, Record<string, { operationId: string; responses: object }>>;
    const operation = (doc.paths as unknown as Paths)['/me']!.get!;
    expect(operation.operationId).toBe('getMe');
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '405', '413', '500']);
  });
});
