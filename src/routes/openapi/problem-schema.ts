// OpenAPI descriptions of the problem document, so every route documents the errors it can give: one
// response per status, whose schema names exactly the codes it can carry and whose examples are
// rendered by problemBody itself, so they cannot drift from what the API really answers.
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode, problemBody } from '../../errors';

type Registry = OpenAPIHono['openAPIRegistry'];

export const PROBLEM_JSON = 'application/problem+json';
const EXAMPLE_REQUEST_ID = '5f1c0d2e-7a3b-4c55-9d7e-0c2b8f1a6e44';

// No examples on title, status or detail: they differ by code, so each response shows its own example.
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    request_id: z.string().openapi({ example: EXAMPLE_REQUEST_ID }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Present on VALIDATION_FAILED: one entry per invalid field.' }),
  })
  .openapi('Problem');

/** What requireAuth() can answer. */
export const AUTH_ERRORS = [
  'UNAUTHORIZED',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'SESSION_REVOKED',
  'ACCOUNT_DISABLED',
] as const satisfies readonly ErrorCode[];

/** What requireAuth({ verified: true }) can answer. */
export const VERIFIED_AUTH_ERRORS = [
  ...AUTH_ERRORS,
  'EMAIL_NOT_VERIFIED',
] as const satisfies readonly ErrorCode[];

/** What a route that calls Stripe can answer when Stripe fails or billing is not configured. */
export const STRIPE_ERRORS = [
  'PROVIDER_ERROR',
  'DEPENDENCY_UNAVAILABLE',
  'FEATURE_NOT_CONFIGURED',
] as const satisfies readonly ErrorCode[];

/** What any request can meet, whatever the route: the router, the body limit, a bug. */
export const EVERY_OPERATION_ERRORS = [
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'INTERNAL_ERROR',
] as const satisfies readonly ErrorCode[];

/** What a request with a JSON body can also meet (MALFORMED_REQUEST each such route lists itself). */
export const BODY_ERRORS = ['UNSUPPORTED_MEDIA_TYPE'] as const satisfies readonly ErrorCode[];

const HEADERS = {
  'WWW-Authenticate': 'Bearer challenge (RFC 6750)',
  Allow: 'The methods this path accepts',
  'Retry-After': 'Seconds until a request may succeed',
  'RateLimit-Limit': 'Requests allowed per window',
  'RateLimit-Remaining': 'Requests left in the window',
  'RateLimit-Reset': 'Seconds until the window resets',
};

/** Headers that come with a status wherever it is answered. */
const HEADERS_BY_STATUS: Record<number, (keyof typeof HEADERS)[]> = {
  401: ['WWW-Authenticate'],
  405: ['Allow'],
  429: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
};

/** `METHOD_NOT_ALLOWED` → `MethodNotAllowed`: the name of a code's components. */
const componentName = (code: ErrorCode) =>
  code
    .toLowerCase()
    .split('_')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');

const ref = (type: 'examples' | 'headers' | 'responses' | 'schemas', name: string) => ({
  $ref: `#/components/${type}/${name}`,
});

/**
 * The problem document narrowed to one status and the codes answered with it: a named component
 * (`NotFoundProblem`, `UnauthorizedOrInvalidTokenProblem`), written once and referred to by every
 * response with that set of codes.
 */
function problemSchemaFor(status: number, codes: ErrorCode[]) {
  const sorted = [...codes].sort();
  return ProblemSchema.extend({
    status: z.literal(status),
    code: z.enum(sorted as [ErrorCode, ...ErrorCode[]]),
  }).openapi(`${responseName(sorted)}Problem`);
}

/**
 * One response for codes that share a status. `schema` is a zod schema, or a reference where the
 * response is a raw component (the generator converts zod only inside routes and registered schemas).
 */
function responseFor<Schema>(status: number, codes: ErrorCode[], schema: Schema) {
  const headers = HEADERS_BY_STATUS[status];
  return {
    description: codes.map((code) => `${code}: ${ERROR_CODES[code].title}`).join('; '),
    ...(headers ? { headers: Object.fromEntries(headers.map((name) => [name, ref('headers', name)])) } : {}),
    content: {
      [PROBLEM_JSON]: {
        schema,
        examples: Object.fromEntries(codes.map((code) => [code, ref('examples', componentName(code))])),
      },
    },
  };
}

function groupByStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

/** The response for codes that share a status, for a route that adds to it (another media type). */
export function problemResponse(...codes: [ErrorCode, ...ErrorCode[]]) {
  const { status } = ERROR_CODES[codes[0]];
  if (codes.some((code) => ERROR_CODES[code].status !== status)) {
    throw new Error(`problemResponse(${codes.join(', ')}): these codes have different statuses`);
  }
  return responseFor(status, codes, problemSchemaFor(status, codes));
}

/**
 * Every response component problemResponses() has named, by name: one per set of codes sharing a status.
 * A document registers those its mounted routes refer to.
 */
const namedResponses = new Map<string, { status: number; codes: ErrorCode[] }>();

const responseName = (codes: readonly ErrorCode[]) => [...codes].sort().map(componentName).join('Or');

/**
 * The `responses` entries for the given error codes, grouped by status: each a reference to a response
 * component that every route answering that status with the same codes shares.
 */
export function problemResponses(...codes: ErrorCode[]) {
  return Object.fromEntries(
    [...groupByStatus(codes)].map(([status, grouped]) => {
      const name = responseName(grouped);
      namedResponses.set(name, { status, codes: grouped });
      return [status, ref('responses', name)];
    }),
  );
}

/** References to the registered responses for the errors every operation (with a body) can meet. */
export function sharedProblemResponses({ withBody }: { withBody: boolean }) {
  const codes = [...EVERY_OPERATION_ERRORS, ...(withBody ? BODY_ERRORS : [])];
  return Object.fromEntries(
    codes.map((code) => [String(ERROR_CODES[code].status), ref('responses', componentName(code))]),
  );
}

const RESPONSE_REF = /^#\/components\/responses\/(\w+)$/;

/** The problem responses the mounted routes refer to, and the shared ones every operation gets. */
function referencedResponses(registry: Registry) {
  const responses = new Map<string, { status: number; codes: ErrorCode[] }>();
  for (const code of [...EVERY_OPERATION_ERRORS, ...BODY_ERRORS]) {
    responses.set(componentName(code), { status: ERROR_CODES[code].status, codes: [code] });
  }
  for (const definition of registry.definitions) {
    if (definition.type !== 'route') continue;
    for (const response of Object.values(definition.route.responses)) {
      const name = '$ref' in response ? RESPONSE_REF.exec(response.$ref)?.[1] : undefined;
      const named = name ? namedResponses.get(name) : undefined;
      if (name && named) responses.set(name, named);
    }
  }
  return responses;
}

/** The codes whose examples the routes refer to, so each is registered once and none goes unused. */
function referencedCodes(registry: Registry, responses: Map<string, { codes: ErrorCode[] }>) {
  const codes = new Set<ErrorCode>();
  for (const response of responses.values()) for (const code of response.codes) codes.add(code);
  for (const definition of registry.definitions) {
    if (definition.type !== 'route') continue;
    for (const response of Object.values(definition.route.responses)) {
      const media = 'content' in response ? response.content?.[PROBLEM_JSON] : undefined;
      const examples = media && 'examples' in media ? media.examples : undefined;
      for (const code of Object.keys(examples ?? {})) if (code in ERROR_CODES) codes.add(code as ErrorCode);
    }
  }
  return codes;
}

function exampleFor(code: ErrorCode) {
  const { title } = ERROR_CODES[code];
  const extensions =
    code === 'VALIDATION_FAILED' ? { errors: [{ path: 'email', message: 'Invalid email address' }] } : {};
  return { summary: title, value: problemBody(code, title, EXAMPLE_REQUEST_ID, extensions) };
}

/**
 * Registers what the problem responses refer to: the headers, one example per code in use, and the
 * responses every operation shares (added to each operation by finishDocument). Call it after the
 * routes are mounted, so their examples are known.
 */
export function registerProblemComponents(registry: Registry) {
  for (const [name, description] of Object.entries(HEADERS)) {
    registry.registerComponent('headers', name, { description, schema: { type: 'string' } });
  }
  const responses = referencedResponses(registry);
  for (const [name, { status, codes }] of responses) {
    // Registered as a schema so the generator converts it; the raw response can then refer to it.
    registry.register(`${name}Problem`, problemSchemaFor(status, codes));
    registry.registerComponent(
      'responses',
      name,
      responseFor(status, codes, ref('schemas', `${name}Problem`)),
    );
  }
  for (const code of referencedCodes(registry, responses)) {
    registry.registerComponent('examples', componentName(code), exampleFor(code));
  }
}
