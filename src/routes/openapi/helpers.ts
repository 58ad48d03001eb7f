// Small builders for route definitions, so each route reads as request, responses and errors.
import { z } from '@hono/zod-openapi';

export const MessageSchema = z.object({ message: z.string() }).openapi('Message');

export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return {
    required: true,
    ...(description ? { description } : {}),
    content: { 'application/json': { schema } },
  };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export const bearerSecurity = [{ bearer: [] }];

/**
 * For public operations, which say so (`security: []`) rather than say nothing: an operation without
 * `security` is then a route that forgot its scheme, and the OpenAPI lint catches it.
 */
export const noAuthRequired: Record<string, string[]>[] = [];

/** C0 controls other than tab, line feed and carriage return, and DEL. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

/**
 * Free text we store and send on (to Postgres, to Stripe): well-formed Unicode without control
 * characters. Postgres refuses NUL and Stripe refuses lone surrogates; both must be a 422, not a 5xx.
 */
export function safeText(schema: z.ZodString = z.string()) {
  return schema.refine(
    (text) => text.isWellFormed() && !hasControlCharacter(text),
    'Contains control characters or invalid Unicode',
  );
}
