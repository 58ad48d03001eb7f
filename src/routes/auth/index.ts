// The account half of the API, mounted at the root (the seed's paths).
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env';
import { accountRoutes } from './account';
import { emailFlowRoutes } from './email-flows';
import { loginCodeRoutes } from './login-code';
import { oauthRoutes } from './oauth';
import { sessionRoutes } from './sessions';
import { signInRoutes } from './sign-in';

export const authRoutes = new OpenAPIHono<AppEnv>()
  .route('/', signInRoutes)
  .route('/', sessionRoutes)
  .route('/', accountRoutes)
  .route('/', emailFlowRoutes)
  .route('/', loginCodeRoutes)
  .route('/', oauthRoutes);
