// The notice after a second-factor change: the owner learns of it even if it was not them.
import { type EmailContext, layout, paragraph, type RenderedEmail } from './layout';

export interface SecondFactorProps {
  username: string;
  kind: 'totp_enabled' | 'totp_disabled' | 'recovery_codes_regenerated' | 'passkey_added' | 'passkey_removed';
}

const WHAT: Record<SecondFactorProps['kind'], { subject: string; heading: string; line: string }> = {
  totp_enabled: {
    subject: 'Two-step sign-in is on',
    heading: 'Two-step sign-in turned on',
    line: 'Signing in now also asks for a code from your authenticator app, and your other devices were signed out.',
  },
  totp_disabled: {
    subject: 'Two-step sign-in is off',
    heading: 'Two-step sign-in turned off',
    line: 'Signing in no longer asks for a code from your authenticator app, and your recovery codes stopped working.',
  },
  recovery_codes_regenerated: {
    subject: 'New recovery codes',
    heading: 'New recovery codes',
    line: 'A new set of recovery codes was made; the previous codes no longer work.',
  },
  passkey_added: {
    subject: 'A passkey was added',
    heading: 'New passkey',
    line: 'A passkey was added to your account: it signs in on its own, without your password.',
  },
  passkey_removed: {
    subject: 'A passkey was removed',
    heading: 'Passkey removed',
    line: 'A passkey was removed from your account, and your other devices were signed out.',
  },
};

export function secondFactorNotice(ctx: EmailContext, props: SecondFactorProps): RenderedEmail {
  const what = WHAT[props.kind];
  const lines = [
    `Hi ${props.username},`,
    what.line,
    props.kind === 'totp_enabled' || props.kind === 'passkey_added'
      ? 'If this was not you, someone has your password: contact support at once (a password reset alone does not remove their authenticator or passkey).'
      : 'If this was not you, reset your password now and contact support.',
  ];
  return {
    subject: `${ctx.appName}: ${what.subject}`,
    html: layout(ctx, { heading: what.heading, body: lines.map(paragraph).join('\n') }),
    text: `${lines.join('\n\n')}\n\n${ctx.appName}`,
  };
}
