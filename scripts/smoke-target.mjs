// Is `npm run smoke` talking to the stack it was told about? Its API must answer edgeauth's GET /health
// and its mailbox must be the edgeauth mail sink; otherwise it would register users on, or read mail
// from, whatever else holds the port. Plain fetch (injectable), so the suite can check it in workerd.

const PROBE_TIMEOUT_MS = 5_000;

/** GET `url` as JSON (null when the body is not); a string when nothing answers. */
async function probe(fetchFn, variable, url) {
  try {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = await response.json().catch(() => null);
    return { status: response.status, body };
  } catch (error) {
    const reason = error?.cause?.code ?? error?.message ?? String(error);
    return `nothing answers at ${url} (${reason}). Start npm run dev, or set ${variable} to where it runs.`;
  }
}

/**
 * Why the stack at these addresses is not one to smoke-test, or null when it is.
 * @param {{ apiUrl: string, mailUrl: string, fetch?: typeof fetch }} target
 * @returns {Promise<string | null>}
 */
export async function smokeTargetProblem({ apiUrl, mailUrl, fetch: fetchFn = fetch }) {
  const health = await probe(fetchFn, 'API_URL', `${apiUrl}/health`);
  if (typeof health === 'string') return health;
  if (health.status === 503 && health.body?.code === 'DEPENDENCY_UNAVAILABLE') {
    return `the API at ${apiUrl} is up but not healthy: ${JSON.stringify(health.body.checks)}`;
  }
  if (health.status !== 200 || health.body?.service !== 'edgeauth') {
    return (
      `${apiUrl}/health answered ${health.status} ${JSON.stringify(health.body)}, which is not ` +
      "edgeauth's health check. Set API_URL to the API address npm run dev prints."
    );
  }
  const sink = await probe(fetchFn, 'MAIL_URL', `${mailUrl}/_standin/health`);
  if (typeof sink === 'string') return sink;
  if (sink.body?.service !== 'edgeauth-mail-sink') {
    return (
      `${mailUrl} is not the edgeauth mail sink (GET /_standin/health answered ${sink.status}). ` +
      'Set MAIL_URL to the Mailbox address npm run dev prints.'
    );
  }
  return null;
}
