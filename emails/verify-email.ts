// Sent on registration and on request: the link that proves the address belongs to the user.
import { button, type EmailContext, layout, minutes, paragraph, type RenderedEmail } from './layout';

export interface VerifyEmailProps {
  username: string;
  link: string;
  expiresInSeconds: number;
}

export function verifyEmail(ctx: EmailContext, props: VerifyEmailProps): RenderedEmail {
  const subject = `Verify your email for ${ctx.appName}`;
  const lifetime = minutes(props.expiresInSeconds);
  const html = layout(ctx, {
    heading: 'Confirm your email address',
    body: [
      paragraph(`Hi ${props.username},`),
      paragraph(
        `Please confirm that this is your email address. The link works once and expires in ${lifetime}.`,
      ),
      button(props.link, 'Verify email'),
      paragraph("If you didn't create an account, you can ignore this message."),
    ].join('\n'),
  });
  const text = `Hi ${props.username},

Please confirm that this is your email address by opening this link (it works once and expires in ${lifetime}):

${props.link}

If you didn't create an account, you can ignore this message.

${ctx.appName}`;
  return { subject, html, text };
}
