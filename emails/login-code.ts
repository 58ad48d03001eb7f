// The 6-digit sign-in code for passwordless login. Says the code's real lifetime.
import { escapeHtml } from '../src/lib/html';
import { type EmailContext, layout, minutes, paragraph, type RenderedEmail } from './layout';

export interface LoginCodeProps {
  username: string;
  code: string;
  expiresInSeconds: number;
}

export function loginCode(ctx: EmailContext, props: LoginCodeProps): RenderedEmail {
  const lifetime = minutes(props.expiresInSeconds);
  const html = layout(ctx, {
    heading: 'Your sign-in code',
    body: [
      paragraph(`Hi ${props.username},`),
      paragraph(`Use this code to sign in to ${ctx.appName}. It works once and expires in ${lifetime}.`),
      `<p style="font-size:32px;letter-spacing:8px;font-weight:bold;margin:24px 0">${escapeHtml(props.code)}</p>`,
      paragraph("If you didn't ask for it, ignore this message; nobody can sign in without the code."),
    ].join('\n'),
  });
  const text = `Hi ${props.username},

Your ${ctx.appName} sign-in code is: ${props.code}

It works once and expires in ${lifetime}. If you didn't ask for it, ignore this message.

${ctx.appName}`;
  return { subject: `Your ${ctx.appName} sign-in code`, html, text };
}
