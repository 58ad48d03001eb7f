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
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}
