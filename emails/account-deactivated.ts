// The notice after an account is closed: every session was signed out, and a live subscription cancelled
// (or, for an account whose email was never verified, the account deleted).
import { type EmailContext, layout, paragraph, type RenderedEmail } from './layout';

export interface AccountDeactivatedProps {
  username: string;
  deleted: boolean;
  canceledPlan: string | null;
}

export function accountDeactivated(ctx: EmailContext, props: AccountDeactivatedProps): RenderedEmail {
  const lines = [
    `Hi ${props.username},`,
    props.deleted
      ? `The ${ctx.appName} account registered with this address was closed and deleted. The address is free to sign up again.`
      : `Your ${ctx.appName} account was deactivated and every device was signed out.`,
    ...(props.canceledPlan
      ? [
          `Your ${props.canceledPlan} subscription was cancelled at once: you will not be charged again. The current period is not refunded.`,
        ]
      : []),
    'If this was not you, contact support right away.',
  ];
  return {
    subject: `Your ${ctx.appName} account was ${props.deleted ? 'deleted' : 'deactivated'}`,
    html: layout(ctx, {
      heading: props.deleted ? 'Account deleted' : 'Account deactivated',
      body: lines.map(paragraph).join('\n'),
    }),
    text: `${lines.join('\n\n')}\n\n${ctx.appName}`,
  };
}
