// The generated OpenAPI document and the docs page that renders it.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors';
import {
  type OpenApiDocument,
  problemCodesOf,
  propertiesOf,
  resolvePointer,
  resolveResponse,
} from '../support/openapi';
import { api } from '../support/worker';

const PROBLEM_JSON = 'application/problem+json';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

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

/** Where zod's own objects were written into the document instead of JSON Schema. */
function zodInternals(node: unknown, where = '#'): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => zodInternals(item, `${where}/${i}`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => {
    if (key === 'example' || key === 'examples') return [];
    // Property names are the API's, not schema keywords: look inside each property's schema only.
    if (key === 'properties') {
      return Object.entries(value as object).flatMap(([name, schema]) =>
        zodInternals(schema, `${where}/properties/${name}`),
      );
    }
    const found = ['def', '_def', '_zod', 'shape'].includes(key) ? [`${where}/${key}`] : [];
    return [...found, ...zodInternals(value, `${where}/${key}`)];
  });
}

async function loadDocument() {
  const response = await api('/openapi.json');
  expect(response.status).toBe(200);
  const text = await response.text();
  return { text, doc: JSON.parse(text) as OpenApiDocument & Record<string, unknown> };
}

function operationsOf(doc: OpenApiDocument) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
  );
}

function errorResponsesOf(doc: OpenApiDocument) {
  return operationsOf(doc).flatMap(({ name, operation }) =>
    Object.entries(operation.responses ?? {})
      .filter(([status]) => Number(status) >= 400)
      .map(([status, response]) => ({ where: `${name} ${status}`, status: Number(status), response })),
  );
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document whose references all resolve', async () => {
    const { doc } = await loadDocument();
    expect(doc.openapi).toBe('3.1.0');
    expect((doc.info as { title: string }).title).toBe('edgeauth-test API');
    const components = doc.components as { securitySchemes: Record<string, unknown> };
    expect(components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const ref of collectRefs(doc)) expect(() => resolvePointer(doc, ref), ref).not.toThrow();
    expect(Object.keys(doc.paths)).toContain('/health');
  });

  it('is JSON Schema throughout, with no zod internals (def, shape) anywhere', async () => {
    const { doc } = await loadDocument();
    expect(zodInternals(doc)).toEqual([]);
  });

  it('stays under 150 KB, so the docs page and code generators load it quickly', async () => {
    const { text } = await loadDocument();
    expect(new TextEncoder().encode(text).byteLength).toBeLessThan(150_000);
  });

  it('documents every operation with a success (or redirect) and its problem responses', async () => {
    const { doc } = await loadDocument();
    for (const { name, operation } of operationsOf(doc)) {
      const statuses = Object.keys(operation.responses ?? {});
      expect(
        statuses.some((status) => /^[23]/.test(status)),
        name,
      ).toBe(true);
    }
    for (const { where, response } of errorResponsesOf(doc)) {
      // Always the problem document; a page route may also offer HTML to browsers.
      const types = Object.keys(resolveResponse(doc, response).content ?? {});
      expect(types[0], where).toBe(PROBLEM_JSON);
      expect(types.filter((type) => type !== PROBLEM_JSON).every((type) => type === 'text/html')).toBe(true);
    }
    expect(doc.paths['/health']?.get?.responses).toHaveProperty('503');
  });

  it('names, in each problem response, the codes of that status and shows an example of each', async () => {
    const { doc } = await loadDocument();
    const responses = errorResponsesOf(doc);
    expect(responses.length).toBeGreaterThan(250);
    for (const { where, status, response } of responses) {
      const media = resolveResponse(doc, response).content?.[PROBLEM_JSON];
      const codes = problemCodesOf(doc, response);
      expect(codes.length, where).toBeGreaterThan(0);
      for (const code of codes) expect(ERROR_CODES[code].status, `${where} ${code}`).toBe(status);
      expect(propertiesOf(doc, media?.schema ?? {}).status?.enum, where).toEqual([status]);

      const examples = Object.entries(media?.examples ?? {}).map(([key, example]) => ({
        key,
        value: (example.$ref ? resolvePointer(doc, example.$ref) : example) as { value?: unknown },
      }));
      expect(examples.map(({ key }) => key).sort(), where).toEqual([...codes].sort());
      for (const { key, value } of examples) {
        const code = key as keyof typeof ERROR_CODES;
        expect(value.value, `${where} example ${key}`).toMatchObject({
          type: 'about:blank',
          status,
          code,
          title: ERROR_CODES[code].title,
        });
      }
    }
  });

  it('gives MALFORMED_REQUEST and UNSUPPORTED_MEDIA_TYPE to every operation with a JSON body', async () => {
    const { doc } = await loadDocument();
    for (const { name, operation } of operationsOf(doc).filter(({ operation }) => operation.requestBody)) {
      const responses = operation.responses ?? {};
      expect(problemCodesOf(doc, responses['400'] ?? {}), name).toContain('MALFORMED_REQUEST');
      expect(problemCodesOf(doc, responses['415'] ?? {}), name).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    }
  });

  it('says of every operation who may call it: a scheme, or `security: []` when public', async () => {
    const { doc } = await loadDocument();
    const security = Object.fromEntries(
      operationsOf(doc).map(({ name, operation }) => [name, operation.security]),
    );
    for (const [name, requirements] of Object.entries(security))
      expect(requirements, name).toBeInstanceOf(Array);
    expect(security['GET /health']).toEqual([]);
    expect(security['POST /login']).toEqual([]);
    expect(security['GET /me']).toEqual([{ bearer: [] }]);
    expect(security['POST /refresh-token']).toEqual([{ refreshCookie: [] }, {}]);
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
