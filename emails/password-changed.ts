// The notice after a password change or reset: the user learns of it even if it was not them.
import { type EmailContext, layout, paragraph, type RenderedEmail } from './layout';

export interface PasswordChangedProps {
  username: string;
  how: 'changed' | 'reset';
}

export function passwordChanged(ctx: EmailContext, props: PasswordChangedProps): RenderedEmail {
  const lines = [
    `Hi ${props.username},`,
    props.how === 'reset'
      ? 'Your password was reset with a link sent to this address, and every device was signed out.'
      : 'Your password was changed, and your other devices were signed out.',
    'If this was not you, reset your password now and contact support.',
  ];
  return {
    subject: `Your ${ctx.appName} password was ${props.how}`,
    html: layout(ctx, { heading: `Password ${props.how}`, body: lines.map(paragraph).join('\n') }),
    text: `${lines.join('\n\n')}\n\n${ctx.appName}`,
  };
}
