// Hostile input against every operation of the app's own OpenAPI document (fast-check): malformed,
// oversized, wrong-typed, unicode-heavy and injection-style bodies, query strings, path parameters,
// headers and cookies, sent signed out, signed in and as an admin. Every answer is the documented success
// or a registered problem+json 4xx; never a 5xx, never a hang; a refused request writes no row.
// Replay a failure with the seed it reports: FC_SEED=<seed> npx vitest run <this file> -t '<operation>'.
// Cases per operation and what they got land in test-results/hostile-input.json.
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { MAX_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES } from '../../src/app';
import { users } from '../../src/db/schema';
import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import { WEBHOOK_PATH } from '../../src/routes/billing';
import { PasswordHasher } from '../../src/services/auth/password-hasher';
import { db, PASSWORD, uniqueEmail, uniqueIp } from '../support/accounts';
import { createPlan } from '../support/billing';
import {
  type HostileCase,
  hostileCase,
  type Material,
  materialNeeds,
  type RenderedRequest,
  renderCase,
} from '../support/hostile';
import type { Known } from '../support/hostile-values';
import { startLogin } from '../support/oauth';
import { loadOperations, type Operation, operationsReached } from '../support/openapi';
import { type RowCounts, rowCountChanges, rowCounts } from '../support/row-counts';
import { API_ORIGIN, api } from '../support/worker';

/** Cases per operation, more where a body gives more to vary; the file should stay within about 90 s. */
function runsFor(operation: Operation): number {
  return operation.body || operation.path === WEBHOOK_PATH ? 100 : 40;
}
const REQUEST_TIMEOUT_MS = 8_000;
const SEED = inject('fcSeed') ? Number(inject('fcSeed')) : undefined;

const { doc, operations } = await loadOperations();

/** Log lines the Worker wrote during the current case (the request log lines are dropped). */
let logLines: { level: string; msg: string; error?: unknown }[] = [];
const printSummary = console.log.bind(console);

function captureLogs() {
  for (const level of ['log', 'debug', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      const line = args.map(String).join(' ');
      try {
        const parsed = JSON.parse(line) as { level: string; msg: string; error?: unknown };
        if (parsed.msg !== 'request') logLines.push(parsed);
      } catch {
        logLines.push({ level, msg: line });
      }
    });
  }
}

/** Genuine accounts to send with the cases; replaced when a case signs them out or deactivates them. */
class Principals {
  private readonly passwordHash = new PasswordHasher().hash(PASSWORD);
  private user?: Promise<{ token: string; sessionId: string; email: string }>;
  private admin?: Promise<{ token: string; sessionId: string; email: string }>;
  created = 0;

  private async signIn(isAdmin: boolean) {
    const email = uniqueEmail(isAdmin ? 'hostile-admin' : 'hostile-user');
    await db()
      .insert(users)
      .values({
        email,
        username: `h${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`,
        passwordHash: await this.passwordHash,
        isVerified: true,
        isAdmin,
      });
    const response = await api('/login', {
      method: 'POST',
      json: { email, password: PASSWORD },
      headers: { 'cf-connecting-ip': uniqueIp() },
    });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    const { token } = (await response.json()) as { token: string };
    this.created += 1;
    return { token, sessionId: decodeJwt(token).sid as string, email };
  }

  get(who: 'user' | 'admin') {
    if (who === 'admin') {
      this.admin ??= this.signIn(true);
      return this.admin;
    }
    this.user ??= this.signIn(false);
    return this.user;
  }

  retire(who: 'user' | 'admin') {
    if (who === 'admin') this.admin = undefined;
    else this.user = undefined;
  }

  /** A new session of the user, with its refresh token in the body (so no cookie is involved). */
  async refreshToken(): Promise<string> {
    const { email } = await this.get('user');
    const response = await api('/login', {
      method: 'POST',
      json: { email, password: PASSWORD },
      headers: { 'cf-connecting-ip': uniqueIp(), 'x-refresh-token-transport': 'body' },
    });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { refresh_token: string }).refresh_token;
  }

  async material(operation: Operation, hostile: HostileCase): Promise<Material> {
    const needs = materialNeeds(operation, hostile);
    const material: Material = {};
    if (needs.user) material.user = await this.get('user');
    if (needs.admin) material.admin = await this.get('admin');
    if (needs.refreshToken) material.refreshToken = await this.refreshToken();
    if (needs.oauth) {
      const started = await startLogin(needs.oauth);
      material.oauth = {
        cookieValue: started.cookie.slice('edgeauth_oauth='.length),
        state: started.location.searchParams.get('state') ?? '',
      };
    }
    return material;
  }

  /** A signed-in case that succeeded on a protected route may have ended the session or the account. */
  afterCase(operation: Operation, hostile: HostileCase, status: number) {
    const changed = status < 300 && operation.method !== 'GET' && operation.security.includes('bearer');
    if (!changed) return;
    if (hostile.auth.kind === 'principal') this.retire(hostile.auth.who);
    else if (hostile.auth.kind === 'mangled') this.retire('user');
  }
}

interface RouteReport {
  operation: string;
  cases: number;
  executed: number;
  statuses: Record<string, number>;
  codes: Record<string, number>;
  undocumentedCodes: string[];
  rerouted: number;
  /** Successful cases that wrote rows (evidence that the row counts see the Worker's writes). */
  successesThatWrote: number;
  /** Refusals answered with an HTML page because the case asked for one (GET /verify). */
  htmlErrorPages: number;
  /** Warnings the Worker logged (errors fail the case). */
  warnings: string[];
  passed: boolean;
  failure?: string;
  seed?: number;
  seconds: number;
}

const reports = new Map<string, RouteReport>();

function reportFor(operation: Operation): RouteReport {
  let report = reports.get(operation.key);
  if (!report) {
    report = {
      operation: operation.key,
      cases: runsFor(operation),
      executed: 0,
      statuses: {},
      codes: {},
      undocumentedCodes: [],
      rerouted: 0,
      successesThatWrote: 0,
      htmlErrorPages: 0,
      warnings: [],
      passed: true,
      seconds: 0,
    };
    reports.set(operation.key, report);
  }
  return report;
}

type Outcome = { response: Response; text: string } | 'timeout';

async function send(request: RenderedRequest): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), REQUEST_TIMEOUT_MS);
  });
  const answer = api(request.path, request.init).then(async (response) => ({
    response,
    text: await response.text(),
  }));
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Verdict {
  violations: string[];
  code?: string;
  success: boolean;
  htmlPage?: boolean;
}

/** Checks one answer against the properties; returns what is wrong (nothing, when all holds). */
function judge(
  operation: Operation,
  request: RenderedRequest,
  outcome: Outcome,
  before: RowCounts,
  after: RowCounts,
): Verdict {
  if (outcome === 'timeout')
    return { violations: [`no answer within ${REQUEST_TIMEOUT_MS} ms`], success: false };
  const { response, text } = outcome;
  const { status } = response;
  const violations: string[] = [];
  const reached = operationsReached(operations, operation.method, `${API_ORIGIN}${request.path}`);
  // The webhook's success needs a Stripe signature, which no generated case has.
  const signatureOnly = reached.some((op) => op.path === WEBHOOK_PATH);
  const successes = new Set(signatureOnly ? [] : reached.flatMap((op) => op.successStatuses));
  const success = successes.has(status);
  const limit = reached.some((op) => op.path === WEBHOOK_PATH) ? MAX_WEBHOOK_BODY_BYTES : MAX_BODY_BYTES;

  // A route that shows pages to browsers (GET /verify) answers them with an HTML page on failure too.
  const htmlPage =
    /text\/html/.test(request.init.headers.accept ?? '') &&
    reached.some((op) => op.successMediaTypes.includes('text/html')) &&
    /^text\/html/.test(response.headers.get('content-type') ?? '');
  let code: string | undefined;
  if (!success && htmlPage) {
    if (status < 400 || status >= 500) violations.push(`answered ${status} with an HTML page`);
    const changes = rowCountChanges(before, after);
    if (changes.length > 0) violations.push(`refused, yet wrote rows: ${changes.join(', ')}`);
  } else if (!success) {
    const contentType = response.headers.get('content-type') ?? '';
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      violations.push(`body is not JSON: ${text.slice(0, 200)}`);
    }
    code = typeof body?.code === 'string' ? body.code : undefined;
    if (status >= 500) {
      // 502 and 503 are documented for providers and dependencies that are down; every stand-in is up.
      const note = status === 502 || status === 503 ? ' (every stand-in is up)' : '';
      violations.push(`answered ${status}${note}: ${text.slice(0, 300)}`);
    } else if (status < 400) {
      violations.push(`answered ${status}, not a documented success of ${operation.key}`);
    }
    if (!/^application\/problem\+json/.test(contentType)) violations.push(`content-type ${contentType}`);
    if (body) {
      if (!code || !(code in ERROR_CODES)) violations.push(`code ${String(body.code)} is not registered`);
      else if (ERROR_CODES[code as ErrorCode].status !== status)
        violations.push(
          `code ${code} is registered as ${ERROR_CODES[code as ErrorCode].status}, answered ${status}`,
        );
      if (body.status !== status) violations.push(`body.status ${String(body.status)} != ${status}`);
      if (body.request_id !== response.headers.get('x-request-id'))
        violations.push('request_id != X-Request-Id');
    }
    if (request.bodyBytes > limit && status !== 413) {
      violations.push(`a ${request.bodyBytes}-byte body over the ${limit}-byte limit answered ${status}`);
    }
    if (signatureOnly && request.bodyBytes <= limit && !(status === 400 && code === 'INVALID_SIGNATURE')) {
      violations.push(`webhook garbage answered ${status} ${code ?? ''}, not 400 INVALID_SIGNATURE`);
    }
    const changes = rowCountChanges(before, after);
    if (changes.length > 0) violations.push(`refused, yet wrote rows: ${changes.join(', ')}`);
    const issued = response.headers
      .getSetCookie()
      .filter((cookie) => /^edgeauth_refresh=[^;]+/.test(cookie) && !/max-age=0/i.test(cookie));
    if (issued.length > 0) violations.push(`refused, yet set a refresh cookie: ${issued.join(' | ')}`);
  }
  for (const cookie of response.headers.getSetCookie()) {
    if (!/^edgeauth_(refresh|oauth)=/.test(cookie)) violations.push(`unexpected Set-Cookie: ${cookie}`);
  }
  for (const line of logLines.filter((entry) => entry.level === 'error')) {
    violations.push(`logged an error: ${line.msg}${line.error ? `: ${JSON.stringify(line.error)}` : ''}`);
  }
  return { violations, success, htmlPage, ...(code === undefined ? {} : { code }) };
}

async function runCase(operation: Operation, hostile: HostileCase, principals: Principals) {
  const report = reportFor(operation);
  report.executed += 1;
  const material = await principals.material(operation, hostile);
  const request = renderCase(operation, hostile, material);
  const before = await rowCounts();
  logLines = [];
  const outcome = await send(request);
  const after = await rowCounts();
  const verdict = judge(operation, request, outcome, before, after);
  const status = outcome === 'timeout' ? 'timeout' : String(outcome.response.status);
  report.statuses[status] = (report.statuses[status] ?? 0) + 1;
  if (verdict.code) {
    report.codes[verdict.code] = (report.codes[verdict.code] ?? 0) + 1;
    const documented = operation.documentedCodes.includes(verdict.code as ErrorCode);
    if (!documented && !report.undocumentedCodes.includes(verdict.code))
      report.undocumentedCodes.push(verdict.code);
  }
  if (operationsReached(operations, operation.method, `${API_ORIGIN}${request.path}`)[0] !== operation) {
    report.rerouted += 1;
  }
  if (verdict.success && rowCountChanges(before, after).length > 0) report.successesThatWrote += 1;
  if (!verdict.success && verdict.htmlPage) report.htmlErrorPages += 1;
  for (const line of logLines.filter((entry) => entry.level === 'warn')) {
    if (!report.warnings.includes(line.msg)) report.warnings.push(line.msg);
  }
  if (outcome !== 'timeout') principals.afterCase(operation, hostile, outcome.response.status);
  if (verdict.violations.length > 0) {
    throw new Error(
      `${request.init.method} ${request.path.slice(0, 300)} → ${status}\n  ${verdict.violations.join('\n  ')}`,
    );
  }
}

function printTable(rows: RouteReport[]) {
  const header = ['operation', 'cases', 'executed', '2xx/3xx', '4xx', '5xx', 'timeouts', 'result'];
  const lines = rows.map((row) => {
    const count = (test: (status: number) => boolean) =>
      Object.entries(row.statuses)
        .filter(([status]) => status !== 'timeout' && test(Number(status)))
        .reduce((sum, [, n]) => sum + n, 0);
    return [
      row.operation,
      String(row.cases),
      String(row.executed),
      String(count((s) => s < 400)),
      String(count((s) => s >= 400 && s < 500)),
      String(count((s) => s >= 500)),
      String(row.statuses.timeout ?? 0),
      row.passed ? 'ok' : 'FAILED',
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  printSummary(['Hostile input: cases per operation', format(header), ...lines.map(format)].join('\n'));
}

describe('hostile input, every operation of /openapi.json', () => {
  const principals = new Principals();
  const known: Known = { emails: [], uuids: [], strings: [PASSWORD] };
  const startedAt = Date.now();

  beforeAll(async () => {
    const victim = uniqueEmail('hostile-victim');
    await db()
      .insert(users)
      .values({
        email: victim,
        username: `v${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`,
        passwordHash: await new PasswordHasher().hash(PASSWORD),
        isVerified: true,
      });
    const plans = [await createPlan(), await createPlan({ tier: 'vip', price_cents: 4900 })];
    known.emails.push(victim, victim.toUpperCase(), 'admin@edgeauth.test');
    known.uuids.push(...plans.map((plan) => plan.id));
    known.strings.push(...plans.map((plan) => plan.code));
    captureLogs();
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    const rows = operations.map(reportFor);
    printTable(rows);
    const summary = {
      seed: SEED ?? null,
      seconds: Math.round((Date.now() - startedAt) / 1000),
      operations: rows.length,
      cases: rows.reduce((sum, row) => sum + row.cases, 0),
      executed: rows.reduce((sum, row) => sum + row.executed, 0),
      accountsSignedIn: principals.created,
      routes: rows,
    };
    const response = await fetch(`${inject('resultsUrl')}/hostile-input.json`, {
      method: 'PUT',
      body: JSON.stringify(summary, null, 2),
    });
    if (!response.ok) printSummary(`could not write test-results/hostile-input.json: ${response.status}`);
  });

  it('reads every operation from the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.map((operation) => operation.key)).toContain(`POST ${WEBHOOK_PATH}`);
  });

  for (const operation of operations) {
    it(`${operation.key} answers every hostile request with its success or a registered 4xx`, async () => {
      const report = reportFor(operation);
      const started = Date.now();
      const details = await fc.check(
        fc.asyncProperty(hostileCase(doc, operation, known), (hostile) =>
          runCase(operation, hostile, principals),
        ),
        { numRuns: report.cases, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      report.seconds = Math.round((Date.now() - started) / 100) / 10;
      report.seed = details.seed;
      if (details.failed) {
        report.passed = false;
        const cause =
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance);
        const message = `${fc.defaultReportMessage(details) ?? 'property failed'}\nWhat went wrong:\n${cause}`;
        report.failure = message;
        throw new Error(message);
      }
    }, 120_000);
  }
});
