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
