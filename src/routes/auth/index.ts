// The account half of the API, mounted at the root (the seed's paths). Each router is named after what
// it serves, and the service doing its work has the same name under services/auth/ (or services/oauth/).
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { accountRoutes } from './account';
import { loginRoutes } from './login';
import { loginCodeRoutes } from './login-codes';
import { mfaLoginRoutes } from './mfa-login';
import { passkeyRoutes } from './passkeys';
import { passwordRoutes } from './passwords';
import { reauthenticationRoutes } from './reauthentication';
import { registrationRoutes } from './registration';
import { secondFactorRoutes } from './second-factors';
import { sessionRoutes } from './sessions';
import { socialLoginRoutes } from './social-login';

export const authRoutes = new OpenAPIHono<AppEnv>()
  .route('/', registrationRoutes)
  .route('/', loginRoutes)
  .route('/', sessionRoutes)
  .route('/', accountRoutes)
  .route('/', passwordRoutes)
  .route('/', loginCodeRoutes)
  .route('/', socialLoginRoutes)
  .route('/', mfaLoginRoutes)
  .route('/', secondFactorRoutes)
  .route('/', reauthenticationRoutes)
  .route('/', passkeyRoutes);
