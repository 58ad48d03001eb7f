// Builds the services for this request and hands them to handlers as `c.var.services`.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { createServices, type WorkerOptions } from '../services';

export function provideServices(options: WorkerOptions) {
  return createMiddleware<AppEnv>(async function provideServicesMiddleware(c, next) {
    c.set('services', createServices(c.env, c.executionCtx as ExecutionContext, options));
    await next();
  });
}
