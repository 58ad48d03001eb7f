// The Hono environment: bindings plus the per-request variables middleware sets.
import type { Services } from './services';
import type { UserRow } from './services/auth/users';
import type { PlanTier } from './services/billing/plan-catalog';

export interface Authenticated {
  user: UserRow;
  sessionId: string;
  /** When this session's owner last signed in or reauthenticated. */
  authenticatedAt: Date;
}

/** What requireSubscription() found: the plan tier and features the user has access to now. */
export interface Entitlement {
  tier: PlanTier;
  features: string[];
  accessUntil: Date | null;
  planCode: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    userId?: string;
    auth?: Authenticated;
    entitlement?: Entitlement;
  };
}
