// Text into HTML: the one escaper shared by the Worker's pages and the email templates.

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
