// HTML pages of the local mail sink: the inbox, which reloads itself when mail arrives, and one message.
// Functions from stored messages to self-contained HTML (everything escaped); the message page runs no script.

/** @typedef {import('./mail-sink.mjs').StoredMessage} StoredMessage @typedef {import('./mail-sink.mjs').Address} Address */

/** The message page: no script at all, and the untrusted HTML body sits in a sandboxed iframe. */
export const PAGE_CSP = "script-src 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'self'";
/** The inbox: only its own reload script, served by the sink. */
export const INBOX_CSP = "script-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'self'";
export const INBOX_SCRIPT_PATH = '/inbox.js';

/**
 * Asks the read API every two seconds and reloads when the inbox it shows (`data-inbox`: how many messages,
 * and the newest one) is out of date. Only the inbox polls, so a message being read is never reloaded away;
 * a sink that stopped leaves the page as it is.
 */
export const INBOX_SCRIPT = `const shown = document.body.dataset.inbox;
setInterval(async () => {
  try {
    const list = await (await fetch('/api/v1/messages?limit=1', { cache: 'no-store' })).json();
    if (\`\${list.total}:\${list.messages[0]?.ID ?? ''}\` !== shown) location.reload();
  } catch {}
}, 2000);
`;

/** @param {Address} a */
export function formatAddress(a) {
  return a.Name ? `${a.Name} <${a.Address}>` : a.Address;
}

/**
 * The inbox; it reloads itself when a message arrives or goes (INBOX_SCRIPT).
 * @param {StoredMessage[]} messages newest first, all of them
 */
export function renderInbox(messages) {
  const rows = messages
    .map(
      (m) => `<tr>
  <td><a href="/messages/${encodeURIComponent(m.ID)}">${escapeHtml(m.Subject || '(no subject)')}</a></td>
  <td>${escapeHtml(m.To.map(formatAddress).join(', '))}</td>
  <td><time datetime="${escapeHtml(m.Created)}">${escapeHtml(readableTime(m.Created))}</time></td>
</tr>`,
    )
    .join('\n');
  const table = messages.length
    ? `<table><thead><tr><th>Subject</th><th>To</th><th>Received</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="empty">No messages yet.</p>';
  const header = `<header><h1>Mail sink</h1><span>${messages.length} message${messages.length === 1 ? '' : 's'}</span>
<form method="post" action="/delete-all"><button type="submit">Delete all</button></form></header>`;
  const inbox = `${messages.length}:${messages[0]?.ID ?? ''}`;
  return layout('Mail sink', `${header}\n${table}`, { inbox });
}

/**
 * The HTML body is untrusted: it is shown in a sandboxed iframe without scripts or same-origin access, and
 * `<base target="_top">` lets a user's click on one of its links leave the sandbox.
 * @param {StoredMessage} m
 */
export function renderMessage(m) {
  const standard = ['From', 'To', 'Cc', 'Reply-To', 'Subject', 'Date'];
  const extra = Object.entries(m.Headers).filter(([name]) => !standard.includes(name));
  const field = (/** @type {string} */ name, /** @type {string} */ value) =>
    value ? `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>` : '';
  const headers = [
    field('From', formatAddress(m.From)),
    field('To', m.To.map(formatAddress).join(', ')),
    field('Cc', m.Cc.map(formatAddress).join(', ')),
    field('Bcc', m.Bcc.map(formatAddress).join(', ')),
    field('Reply-To', m.ReplyTo.map(formatAddress).join(', ')),
    field('Date', readableTime(m.Created)),
    field('Provider', m.Provider),
    ...extra.map(([name, values]) => field(name, values.join(', '))),
  ].join('');
  const html = m.HTML
    ? `<iframe title="HTML body" sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation" referrerpolicy="no-referrer" srcdoc="${escapeHtml(`<base target="_top">${m.HTML}`)}"></iframe>`
    : '<p class="empty">No HTML body.</p>';
  const text = m.Text ? `<pre>${escapeHtml(m.Text)}</pre>` : '<p class="empty">No text body.</p>';
  const body = `<p><a href="/">&larr; Inbox</a> &middot; <a href="/api/v1/message/${encodeURIComponent(m.ID)}">JSON</a></p>
<h1>${escapeHtml(m.Subject || '(no subject)')}</h1>
<dl>${headers}</dl>
<h2>HTML</h2>${html}
<h2>Text</h2>${text}`;
  return layout(m.Subject || '(no subject)', body);
}

/** @param {string} title @param {string} body @param {{ inbox?: string }} [options] */
export function layout(title, body, { inbox } = {}) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>${inbox === undefined ? '' : `<script src="${INBOX_SCRIPT_PATH}" defer></script>`}
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:1rem 1.5rem;color:#1f2328;background:#fff}
header{display:flex;align-items:center;gap:1rem}header h1{margin-right:auto}
h1{font-size:1.4rem}h2{font-size:1rem;margin-top:1.5rem;color:#59636e}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #d1d9e0;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;color:#59636e}tr:hover td{background:#f6f8fa}
a{color:#0969da}button{font:inherit;padding:.35rem .8rem;border:1px solid #d1d9e0;border-radius:6px;background:#f6f8fa;cursor:pointer}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600;color:#59636e}dd{margin:0;word-break:break-word}
iframe{width:100%;height:60vh;border:1px solid #d1d9e0;border-radius:6px}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:1rem;border-radius:6px}
.empty{color:#59636e;font-style:italic}
</style></head>
<body${inbox === undefined ? '' : ` data-inbox="${escapeHtml(inbox)}"`}>
${body}
</body></html>`;
}

/** @param {string} iso */
function readableTime(iso) {
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

/** @param {string} text */
function escapeHtml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );
}
