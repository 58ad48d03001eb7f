// Sent instead of a verification email when someone registers with an address that already has an
// account: the owner learns of it, and the registration response reveals nothing.
import { type EmailContext, layout, paragraph, type RenderedEmail } from './layout';

export function accountExists(ctx: EmailContext, props: { username: string }): RenderedEmail {
  const lines = [
    `Hi ${props.username},`,
    `Someone tried to create a new ${ctx.appName} account with this email address, which already has one.`,
    'If it was you, sign in instead, or use "forgot password" if you no longer know it. If not, you can ignore this message.',
  ];
  return {
    subject: `Sign-up attempt with your ${ctx.appName} email`,
    html: layout(ctx, { heading: 'You already have an account', body: lines.map(paragraph).join('\n') }),
    text: `${lines.join('\n\n')}\n\n${ctx.appName}`,
  };
}
