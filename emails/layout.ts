// The shared frame of every email: a plain layout that renders in any client, and the footer.
import { escapeHtml } from '../src/lib/html';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface EmailContext {
  appName: string;
  appUrl: string;
}

export function button(href: string, label: string): string {
  return `<p style="margin:24px 0"><a href="${escapeHtml(href)}" style="background:#1f4fd8;color:#fff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">${escapeHtml(label)}</a></p>`;
}

/** Wraps already-escaped body HTML; `paragraphs` are plain text and escaped here. */
export function layout(ctx: EmailContext, { heading, body }: { heading: string; body: string }): string {
  return `<!doctype html>
<html><body style="margin:0;background:#f5f6f8;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1d2330">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" style="padding:32px 12px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="background:#fff;border-radius:8px;padding:32px">
<tr><td>
<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(heading)}</h1>
${body}
<p style="color:#6b7280;font-size:12px;margin-top:32px">Sent by ${escapeHtml(ctx.appName)} · <a href="${escapeHtml(ctx.appUrl)}" style="color:#6b7280">${escapeHtml(ctx.appUrl)}</a></p>
</td></tr></table></td></tr></table>
</body></html>`;
}

export const paragraph = (text: string) =>
  `<p style="line-height:1.5;margin:0 0 12px">${escapeHtml(text)}</p>`;

export function minutes(seconds: number): string {
  const m = Math.round(seconds / 60);
  return m === 1 ? '1 minute' : `${m} minutes`;
}
