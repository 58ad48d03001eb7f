// The Hono environment: bindings plus the per-request variables middleware sets.
import type { Services } from './services';
import type { UserRow } from './services/auth/users';

export interface Authenticated {
  user: UserRow;
  sessionId: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    userId?: string;
    auth?: Authenticated;
  };
}
