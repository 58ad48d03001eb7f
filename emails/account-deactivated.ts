// The notice after an account is deactivated: every session has been signed out.
import { type EmailContext, layout, paragraph, type RenderedEmail } from './layout';

export function accountDeactivated(ctx: EmailContext, props: { username: string }): RenderedEmail {
  const lines = [
    `Hi ${props.username},`,
    `Your ${ctx.appName} account was deactivated and every device was signed out.`,
    'If this was not you, contact support right away.',
  ];
  return {
    subject: `Your ${ctx.appName} account was deactivated`,
    html: layout(ctx, { heading: 'Account deactivated', body: lines.map(paragraph).join('\n') }),
    text: `${lines.join('\n\n')}\n\n${ctx.appName}`,
  };
}
