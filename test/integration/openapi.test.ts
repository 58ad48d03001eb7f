// The generated OpenAPI document and the docs page that renders it.
import { describe, expect, it } from 'vitest';
import { api } from '../support/worker';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

function collectRefs(node: unknown, refs: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, refs);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.push(value);
      else collectRefs(value, refs);
    }
  }
  return refs;
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document whose references all resolve', async () => {
    const response = await api('/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('edgeauth-test API');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const ref of collectRefs(doc)) {
      const name = ref.replace('#/components/schemas/', '');
      expect(doc.components.schemas, ref).toHaveProperty(name);
    }
    expect(Object.keys(doc.paths)).toContain('/health');
  });

  it('documents every operation with a success (or redirect) and its problem responses', async () => {
    const doc = (await (await api('/openapi.json')).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses ?? {});
        expect(
          statuses.some((status) => /^[23]/.test(status)),
          `${method} ${path}`,
        ).toBe(true);
        for (const status of statuses.filter((s) => Number(s) >= 400)) {
          // Always the problem document; a page route may also offer HTML to browsers.
          const types = Object.keys(operation.responses?.[status]?.content ?? {});
          expect(types[0], `${method} ${path} ${status}`).toBe('application/problem+json');
          expect(types.filter((t) => t !== 'application/problem+json').every((t) => t === 'text/html')).toBe(
            true,
          );
        }
      }
    }
    expect(doc.paths['/health']?.get?.responses).toHaveProperty('503');
  });
});

describe('GET /docs', () => {
  it('serves the reference page wired to the document and the bundled UI', async () => {
    const response = await api('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<title>edgeauth-test API reference</title>');
    expect(html).toContain('/docs/vendor/swagger-ui-bundle.js');
    expect(html).toContain('/docs/init.js');
  });
});
