// Turns a queued job into subject, HTML and text with the templates in emails/, building links from config.
import { accountDeactivated } from '../../../emails/account-deactivated';
import { accountExists } from '../../../emails/account-exists';
import type { EmailContext, RenderedEmail } from '../../../emails/layout';
import { loginCode } from '../../../emails/login-code';
import { passwordChanged } from '../../../emails/password-changed';
import { resetPassword } from '../../../emails/reset-password';
import { secondFactorNotice } from '../../../emails/second-factor';
import { subscriptionNotice } from '../../../emails/subscription';
import { verifyEmail } from '../../../emails/verify-email';
import type { Config } from '../../env';
import type { QueuedEmail } from './jobs';

type LinkConfig = Pick<Config, 'APP_URL' | 'FRONTEND_URL'>;

/** Without a front end the link opens the API itself, which verifies and answers with a small page. */
export function verifyLink(config: LinkConfig, token: string): string {
  const base = config.FRONTEND_URL ? `${config.FRONTEND_URL}/verify-email` : `${config.APP_URL}/verify`;
  return `${base}?token=${encodeURIComponent(token)}`;
}

export function resetLink(config: LinkConfig, token: string): string {
  return `${config.FRONTEND_URL ?? config.APP_URL}/reset-password?token=${encodeURIComponent(token)}`;
}

export class MissingSecretError extends Error {}

export function renderEmail(
  config: LinkConfig & Pick<Config, 'APP_NAME'>,
  job: QueuedEmail,
  secret: string | null,
): RenderedEmail {
  const ctx: EmailContext = { appName: config.APP_NAME, appUrl: config.FRONTEND_URL ?? config.APP_URL };
  const needSecret = () => {
    if (secret === null)
      throw new MissingSecretError(`job ${job.id} (${job.template}) has no readable secret`);
    return secret;
  };
  switch (job.template) {
    case 'verify_email':
      return verifyEmail(ctx, { ...job.data, link: verifyLink(config, needSecret()) });
    case 'reset_password':
      return resetPassword(ctx, { ...job.data, link: resetLink(config, needSecret()) });
    case 'password_changed':
      return passwordChanged(ctx, job.data);
    case 'account_exists':
      return accountExists(ctx, job.data);
    case 'account_deactivated':
      return accountDeactivated(ctx, job.data);
    case 'login_code':
      return loginCode(ctx, { ...job.data, code: needSecret() });
    case 'subscription':
      return subscriptionNotice(ctx, job.data);
    case 'second_factor':
      return secondFactorNotice(ctx, job.data);
  }
}
