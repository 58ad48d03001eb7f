// The Hono environment: bindings plus the per-request variables middleware sets.
import type { Services } from './services';
import type { UserRow } from './services/auth/users';
import type { PublicEntitlement } from './services/billing/access';

export interface Authenticated {
  user: UserRow;
  sessionId: string;
  /** When this session's owner last signed in or reauthenticated. */
  authenticatedAt: Date;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    userId?: string;
    auth?: Authenticated;
    /** What requireSubscription() found: the plan, tier and features the user has access to now. */
    entitlement?: PublicEntitlement;
  };
}
