// The app's own OpenAPI document as a list of operations, so tests that must cover every route (the
// hostile-input properties) pick up new routes without being edited.
import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import { api } from './worker';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

interface RawParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface MediaType {
  schema?: JsonSchema;
  example?: unknown;
  examples?: Record<string, { $ref?: string; value?: unknown }>;
}

export interface RawResponse {
  $ref?: string;
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, MediaType>;
}

export interface RawOperation {
  security?: Record<string, string[]>[];
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, RawResponse>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, RawOperation>>;
  components?: {
    schemas?: Record<string, JsonSchema>;
    responses?: Record<string, RawResponse>;
    examples?: Record<string, { summary?: string; value?: unknown }>;
  };
}

export interface Parameter {
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** `POST /billing/plans` */
  key: string;
  method: string;
  /** The OpenAPI path template, e.g. `/sessions/{id}`. */
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** The JSON request body, when the operation documents one. */
  body?: { required: boolean; schema: JsonSchema };
  /** `bearer` (Authorization), `refreshCookie`, or none. */
  security: string[];
  /** 2xx and 3xx statuses the operation documents. */
  successStatuses: number[];
  /** Media types of the documented successes (`text/html` for pages shown to browsers). */
  successMediaTypes: string[];
  /** Every status the operation documents. */
  documentedStatuses: number[];
  /** Error codes the documented problem responses can carry (the `code` enum of each schema). */
  documentedCodes: ErrorCode[];
}

/** Resolves `#/components/schemas/...` references (one level at a time, as the generators walk). */
export function resolveSchema(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 16; hops++) {
    const name = current.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved ${current.$ref}`);
    current = target;
  }
  return current;
}

/** The value a local reference (`#/components/...`) points to; throws when nothing is there. */
export function resolvePointer(doc: OpenApiDocument, ref: string): unknown {
  const target = ref
    .replace(/^#\//, '')
    .split('/')
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  if (target === undefined) throw new Error(`unresolved ${ref}`);
  return target;
}

/** A response itself, following a reference to components.responses. */
export function resolveResponse(doc: OpenApiDocument, response: RawResponse): RawResponse {
  return response.$ref ? (resolvePointer(doc, response.$ref) as RawResponse) : response;
}

/** A schema's properties, following references and merging allOf (later parts narrow earlier ones). */
export function propertiesOf(doc: OpenApiDocument, schema: JsonSchema): Record<string, JsonSchema> {
  const resolved = resolveSchema(doc, schema);
  const inherited = (resolved.allOf ?? []).map((part) => propertiesOf(doc, part));
  return Object.assign({}, ...inherited, resolved.properties);
}

/** The codes a problem response's schema says it can carry (its `code` enum). */
export function problemCodesOf(doc: OpenApiDocument, response: RawResponse): ErrorCode[] {
  const schema = resolveResponse(doc, response).content?.['application/problem+json']?.schema;
  const codes = schema ? (propertiesOf(doc, schema).code?.enum ?? []) : [];
  return codes.filter((code): code is ErrorCode => typeof code === 'string' && code in ERROR_CODES);
}

function toOperation(path: string, method: string, raw: RawOperation, doc: OpenApiDocument): Operation {
  const statuses = Object.keys(raw.responses ?? {}).map(Number);
  const codes = new Set<ErrorCode>();
  for (const [status, response] of Object.entries(raw.responses ?? {})) {
    if (Number(status) >= 400) for (const code of problemCodesOf(doc, response)) codes.add(code);
  }
  const params = (where: RawParameter['in']) =>
    (raw.parameters ?? [])
      .filter((parameter) => parameter.in === where)
      .map((parameter) => ({
        name: parameter.name,
        required: parameter.required === true,
        schema: resolveSchema(doc, parameter.schema ?? {}),
      }));
  const jsonBody = raw.requestBody?.content?.['application/json']?.schema;
  return {
    key: `${method.toUpperCase()} ${path}`,
    method: method.toUpperCase(),
    path,
    pathParams: params('path'),
    queryParams: params('query'),
    ...(jsonBody
      ? { body: { required: raw.requestBody?.required === true, schema: resolveSchema(doc, jsonBody) } }
      : {}),
    security: (raw.security ?? []).flatMap((requirement) => Object.keys(requirement)),
    successStatuses: statuses.filter((status) => status < 400),
    successMediaTypes: [
      ...new Set(
        Object.entries(raw.responses ?? {})
          .filter(([status]) => Number(status) < 400)
          .flatMap(([, response]) => Object.keys(response.content ?? {})),
      ),
    ],
    documentedStatuses: statuses,
    documentedCodes: [...codes],
  };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Every operation of GET /openapi.json, in document order. */
export async function loadOperations(): Promise<{ doc: OpenApiDocument; operations: Operation[] }> {
  const response = await api('/openapi.json');
  if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
  const doc = (await response.json()) as OpenApiDocument;
  const operations = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod)
      .filter(([method]) => METHODS.has(method))
      .map(([method, raw]) => toOperation(path, method, raw, doc)),
  );
  return { doc, operations };
}

function safeDecodeURI(path: string): string {
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

function templatePattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) =>
      /^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, (ch) => `\\${ch}`),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * The operations a request reaches once the URL is normalised (`..` segments resolved, percent-decoded
 * the way the router decodes): a traversal in a path parameter may land on another route.
 */
export function operationsReached(operations: Operation[], method: string, url: string): Operation[] {
  const pathname = safeDecodeURI(new URL(url).pathname);
  return operations.filter(
    (operation) => operation.method === method && templatePattern(operation.path).test(pathname),
  );
}
