// Sent on /forget-password when the account exists: the single-use link to choose a new password.
import { button, type EmailContext, layout, minutes, paragraph, type RenderedEmail } from './layout';

export interface ResetPasswordProps {
  username: string;
  link: string;
  expiresInSeconds: number;
}

export function resetPassword(ctx: EmailContext, props: ResetPasswordProps): RenderedEmail {
  const lifetime = minutes(props.expiresInSeconds);
  const html = layout(ctx, {
    heading: 'Reset your password',
    body: [
      paragraph(`Hi ${props.username},`),
      paragraph(`Someone asked to reset your password. The link works once and expires in ${lifetime}.`),
      button(props.link, 'Choose a new password'),
      paragraph("If it wasn't you, ignore this message: your password stays as it is."),
    ].join('\n'),
  });
  const text = `Hi ${props.username},

Someone asked to reset your password. Open this link to choose a new one (it works once and expires in ${lifetime}):

${props.link}

If it wasn't you, ignore this message: your password stays as it is.

${ctx.appName}`;
  return { subject: `Reset your ${ctx.appName} password`, html, text };
}
