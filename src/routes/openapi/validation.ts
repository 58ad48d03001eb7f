// The one validation hook: a failed zod parse of body, query, path or headers becomes a 422 problem.
import type { Hook } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { AppError } from '../../errors';

export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (result.success) return;
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : result.target,
    message: issue.message,
  }));
  throw new AppError('VALIDATION_FAILED', 'The request is not valid', { errors });
};
