// The Hono environment: bindings plus the per-request variables middleware sets.
import type { Services } from './services';

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    userId?: string;
  };
}
