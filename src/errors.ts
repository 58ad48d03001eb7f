// The one registry of error codes and the RFC 9457 problem document every failure is rendered as.
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const ERROR_CODES = {
  MALFORMED_REQUEST: { status: 400, title: 'Malformed request' },
  INVALID_EMAIL_TOKEN: { status: 400, title: 'Invalid or expired link' },
  INVALID_LOGIN_CODE: { status: 400, title: 'Invalid or expired code' },
  INVALID_REDIRECT: { status: 400, title: 'Redirect target not allowed' },
  INVALID_MFA_CODE: { status: 400, title: 'Invalid or already used code' },
  PASSKEY_REJECTED: { status: 400, title: 'Passkey response rejected' },
  INVALID_SIGNATURE: { status: 400, title: 'Invalid webhook signature' },
  INVALID_WEBHOOK_EVENT: { status: 400, title: 'Invalid webhook event' },
  OAUTH_CALLBACK_INVALID: { status: 400, title: 'Invalid OAuth callback' },
  OAUTH_DENIED: { status: 400, title: 'Sign-in was cancelled at the provider' },
  OAUTH_EXCHANGE_FAILED: { status: 400, title: 'The provider rejected the sign-in' },
  OAUTH_EMAIL_NOT_VERIFIED: { status: 400, title: 'No verified email at the provider' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid credentials' },
  INVALID_TOKEN: { status: 401, title: 'Invalid token' },
  TOKEN_EXPIRED: { status: 401, title: 'Token expired' },
  SESSION_REVOKED: { status: 401, title: 'Session revoked' },
  INVALID_REFRESH_TOKEN: { status: 401, title: 'Invalid refresh token' },
  INVALID_MFA_TOKEN: { status: 401, title: 'Invalid or expired sign-in step' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  ACCOUNT_DISABLED: { status: 403, title: 'Account disabled' },
  EMAIL_NOT_VERIFIED: { status: 403, title: 'Email not verified' },
  INCORRECT_PASSWORD: { status: 403, title: 'Incorrect password' },
  ORIGIN_NOT_ALLOWED: { status: 403, title: 'Origin not allowed' },
  ADMIN_REQUIRED: { status: 403, title: 'Admin privileges required' },
  REAUTHENTICATION_REQUIRED: { status: 403, title: 'Recent authentication required' },
  SUBSCRIPTION_REQUIRED: { status: 403, title: 'Subscription required' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONFLICT: { status: 409, title: 'Conflict' },
  USERNAME_TAKEN: { status: 409, title: 'Username taken' },
  OAUTH_ACCOUNT_EXISTS: { status: 409, title: 'Account exists; link refused' },
  PLAN_CODE_TAKEN: { status: 409, title: 'Plan code taken' },
  SUBSCRIPTION_EXISTS: { status: 409, title: 'Subscription exists' },
  SUBSCRIPTION_STATE: { status: 409, title: 'Subscription in the wrong state' },
  MFA_STATE: { status: 409, title: 'Second factor in the wrong state' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  VALIDATION_FAILED: { status: 422, title: 'Validation failed' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  PROVIDER_ERROR: { status: 502, title: 'Upstream provider error' },
  DEPENDENCY_UNAVAILABLE: { status: 503, title: 'Dependency unavailable' },
  FEATURE_NOT_CONFIGURED: { status: 503, title: 'Feature not configured' },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** A request-ending failure with a registered code; the app's error handler renders it. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    readonly detail: string = ERROR_CODES[code].title,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${detail}`);
  }

  get status(): ContentfulStatusCode {
    return ERROR_CODES[this.code].status;
  }
}

export function problemBody(code: ErrorCode, detail: string, requestId: string, extensions = {}): Problem {
  const { status, title } = ERROR_CODES[code];
  return { type: 'about:blank', title, status, detail, code, request_id: requestId, ...extensions };
}
