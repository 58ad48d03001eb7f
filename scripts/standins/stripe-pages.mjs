// HTML pages of the local Stripe stand-in: the hosted Checkout page, the customer portal and short notices.
// Pure functions from view data to self-contained HTML (inline styles, no scripts, everything escaped).

/**
 * @typedef {{ name: string, description: string | null, quantity: number, amount: string, interval: string }} CheckoutLine
 * @typedef {{ id: string, name: string, amount: string, interval: string, status: string,
 *   periodEnd: number, cancelAtPeriodEnd: boolean, cancelAction: string, resumeAction: string }} PortalSubscription
 */

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1a1f36; }
main { max-width: 520px; margin: 48px auto; background: #fff; border-radius: 8px; padding: 32px;
  box-shadow: 0 2px 8px rgba(0, 0, 0, .08); }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.muted { color: #697386; font-size: 13px; } .total { font-size: 28px; font-weight: 600; margin: 16px 0; }
table { width: 100%; border-collapse: collapse; } td { padding: 6px 0; vertical-align: top; }
td.amount { text-align: right; white-space: nowrap; }
button { background: #635bff; color: #fff; border: 0; border-radius: 6px; padding: 12px 20px; font-size: 15px;
  cursor: pointer; width: 100%; } button.secondary { background: #fff; color: #635bff; border: 1px solid #635bff;
  width: auto; padding: 6px 12px; }
.error { background: #fff0f0; color: #a4161a; border-radius: 6px; padding: 10px 12px; margin: 12px 0; }
.badge { font-size: 12px; background: #eef0ff; color: #3d35c9; border-radius: 4px; padding: 1px 6px; }
.sub { border-top: 1px solid #e3e8ee; padding: 12px 0; } a { color: #635bff; }
footer { margin-top: 24px; font-size: 12px; color: #8792a2; }`;

/** @param {unknown} value */
export function escapeHtml(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * Amounts are in the currency's smallest unit; Intl knows how many fraction digits each currency has.
 * @param {number} amount @param {string} currency
 */
export function formatAmount(amount, currency) {
  try {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
    return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
  } catch {
    return `${amount} ${currency.toUpperCase()}`;
  }
}

/** @param {{ interval: string, interval_count: number } | null} recurring */
export function formatInterval(recurring) {
  if (!recurring) return '';
  const { interval, interval_count: count } = recurring;
  return count === 1 ? `per ${interval}` : `every ${count} ${interval}s`;
}

/** @param {number} unixSeconds */
export function formatDate(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleDateString('en-GB', {
    day: '2-digit',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** @param {string} title @param {string} body */
function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}
<footer>Local Stripe stand-in (test mode). No real payment is made.</footer></main></body></html>`;
}

/**
 * @param {{ sessionId: string, email: string | null, lines: CheckoutLine[], total: string, payAction: string,
 *   cancelUrl: string | null, error?: string }} view
 */
export function renderCheckoutPage(view) {
  const rows = view.lines
    .map(
      (
        line,
      ) => `<tr><td><strong>${escapeHtml(line.name)}</strong>${line.quantity > 1 ? ` &times; ${line.quantity}` : ''}
${line.description ? `<div class="muted">${escapeHtml(line.description)}</div>` : ''}
<div class="muted">Billed ${escapeHtml(line.interval)}</div></td><td class="amount">${escapeHtml(line.amount)}</td></tr>`,
    )
    .join('\n');
  const cancel = view.cancelUrl
    ? `<p><a href="${escapeHtml(view.cancelUrl)}" id="cancel">Cancel and return</a></p>`
    : '';
  return page(
    'Checkout',
    `<h1>Subscribe</h1><p class="muted">Checkout session <code>${escapeHtml(view.sessionId)}</code>
${view.email ? ` &middot; ${escapeHtml(view.email)}` : ''}</p>
<div class="total">${escapeHtml(view.total)}</div>
<table>${rows}</table>
${view.error ? `<div class="error" role="alert">${escapeHtml(view.error)}</div>` : ''}
<form method="post" action="${escapeHtml(view.payAction)}"><button type="submit" id="pay">Pay ${escapeHtml(view.total)}</button></form>
${cancel}`,
  );
}

/**
 * @param {{ customer: { email: string | null, name: string | null }, subscriptions: PortalSubscription[],
 *   returnUrl: string | null }} view
 */
export function renderPortalPage(view) {
  const subscriptions = view.subscriptions
    .map((sub) => {
      const when = sub.cancelAtPeriodEnd
        ? `Cancels on ${formatDate(sub.periodEnd)}`
        : `Renews on ${formatDate(sub.periodEnd)}`;
      const action = sub.cancelAtPeriodEnd
        ? `<form method="post" action="${escapeHtml(sub.resumeAction)}"><button class="secondary" type="submit">Resume subscription</button></form>`
        : `<form method="post" action="${escapeHtml(sub.cancelAction)}"><button class="secondary" type="submit">Cancel at period end</button></form>`;
      return `<div class="sub"><strong>${escapeHtml(sub.name)}</strong> <span class="badge">${escapeHtml(sub.status)}</span>
<div>${escapeHtml(sub.amount)} ${escapeHtml(sub.interval)}</div><div class="muted">${escapeHtml(when)} &middot; ${escapeHtml(sub.id)}</div>
${sub.status === 'canceled' ? '' : action}</div>`;
    })
    .join('\n');
  const back = view.returnUrl ? `<p><a href="${escapeHtml(view.returnUrl)}" id="return">Return</a></p>` : '';
  return page(
    'Billing portal',
    `<h1>Billing</h1><p class="muted">${escapeHtml(view.customer.name ?? '')} ${escapeHtml(view.customer.email ?? '')}</p>
<h2>Subscriptions</h2>${subscriptions || '<p class="muted">No subscriptions.</p>'}
${back}`,
  );
}

/** @param {string} title @param {string} message @param {{ href: string, label: string } | null} [link] */
export function renderNoticePage(title, message, link = null) {
  const action = link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : '';
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${action}`);
}
