// Sent on registration and on request: the link that proves the address belongs to the registrant.
import { button, type EmailContext, layout, minutes, paragraph, type RenderedEmail } from './layout';

export interface VerifyEmailProps {
  username: string;
  link: string;
  expiresInSeconds: number;
}

// Opening the link confirms the registration with its password: someone else may have registered the
// address, so the owner is told how to take it over instead.
const NOT_YOU =
  "If you didn't create it, don't open the link. To take the address over, sign in with an emailed code or reset the password: that signs out whoever registered it.";

export function verifyEmail(ctx: EmailContext, props: VerifyEmailProps): RenderedEmail {
  const subject = `Verify your email for ${ctx.appName}`;
  const lifetime = minutes(props.expiresInSeconds);
  const html = layout(ctx, {
    heading: 'Confirm your email address',
    body: [
      paragraph(`Hi ${props.username},`),
      paragraph(
        `Please confirm that you created the ${ctx.appName} account "${props.username}" with this address. The link works once and expires in ${lifetime}.`,
      ),
      button(props.link, 'Yes, I created it'),
      paragraph(NOT_YOU),
    ].join('\n'),
  });
  const text = `Hi ${props.username},

Please confirm that you created the ${ctx.appName} account "${props.username}" with this address by opening this link (it works once and expires in ${lifetime}):

${props.link}

${NOT_YOU}

${ctx.appName}`;
  return { subject, html, text };
}
