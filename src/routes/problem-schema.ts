// OpenAPI descriptions of the problem document, so every route documents the errors it can give.
import { z } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode } from '../errors';

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string().openapi({ example: 'Validation failed' }),
    status: z.number().int().openapi({ example: 422 }),
    detail: z.string().openapi({ example: 'The request is not valid' }),
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    request_id: z.string().openapi({ example: '5f1c0d2e-7a3b-4c55-9d7e-0c2b8f1a6e44' }),
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

const header = (description: string) => ({ description, schema: { type: 'string' as const } });

/** Headers that come with a status wherever it is answered. */
const HEADERS_BY_STATUS: Record<number, Record<string, ReturnType<typeof header>>> = {
  401: { 'WWW-Authenticate': header('Bearer challenge (RFC 6750)') },
  405: { Allow: header('The methods this path accepts') },
  429: {
    'Retry-After': header('Seconds until a request may succeed'),
    'RateLimit-Limit': header('Requests allowed per window'),
    'RateLimit-Remaining': header('Requests left in the window'),
    'RateLimit-Reset': header('Seconds until the window resets'),
  },
};

/** The `responses` entries for the given error codes, grouped by status. */
export function problemResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, grouped]) => [
      status,
      {
        description: grouped.map((code) => `${code}: ${ERROR_CODES[code].title}`).join('; '),
        ...(HEADERS_BY_STATUS[status] ? { headers: HEADERS_BY_STATUS[status] } : {}),
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}
