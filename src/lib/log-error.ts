// How an error appears in a log line: its kind, the operation that failed and a code, never its message.
// Drizzle puts query parameters (emails, password and token hashes) into its messages and the Upstash SDK
// the whole command (keys hold emails), so messages are left out for every kind of error.
import { NeonDbError } from '@neondatabase/serverless';
import { errors as upstashErrors } from '@upstash/redis/cloudflare';
import {
  ArcticFetchError,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
} from 'arctic';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { ConfigError } from '../env';
import { AppError } from '../errors';
import { StripeApiError, StripeConnectionError } from '../services/billing/stripe-api';
import { DeadlineExceededError } from './deadline';

export type Dependency = 'database' | 'redis' | 'stripe' | 'mail' | 'oauth';
/** `app` is an AppError (a registered outcome our code raised); `internal` is anything unexpected. */
export type ErrorKind = Dependency | 'timeout' | 'app' | 'internal';

export interface LoggedError {
  kind: ErrorKind;
  /** The error's name, e.g. NeonDbError or TypeError (absent when a dependency answered a failure status). */
  name?: string;
  /** What was being done, e.g. `update users`, `evalsha`, `create the customer`. */
  operation?: string;
  /** SQLSTATE, `http_<status>`, a Stripe or OAuth error code, `timeout`, `unreachable`. */
  code?: string;
  /** Only for ConfigError, whose message names variables and never their values. */
  detail?: string;
  /** For internal errors (or when asked): the error's name and its frames, without the message. */
  stack?: string;
}

/** What the caller knows: which dependency it was talking to (for bare network errors) and why. */
export interface ErrorContext {
  dependency?: Dependency;
  operation?: string;
  /** Keep the frames whatever the kind (an error nobody handled is a bug even when a query failed). */
  includeStack?: boolean;
}

const SAFE_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const safeCode = (code: unknown) => (typeof code === 'string' && SAFE_CODE.test(code) ? code : undefined);
const isTimeout = (error: unknown) =>
  error instanceof DeadlineExceededError ||
  (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));

/** fetch rejects with a TypeError, or in workerd an Error "Network connection lost.", when the peer is gone. */
const isNetworkFailure = (error: unknown) =>
  error instanceof TypeError ||
  (error instanceof Error && /network|connection|fetch failed|socket/i.test(error.message));

export function describeError(error: unknown, context: ErrorContext = {}): LoggedError {
  const name = error instanceof Error ? error.name : typeof error;
  const described = classify(error, context);
  const operation = described.operation ?? context.operation;
  const code = safeCode(described.code);
  return {
    kind: described.kind,
    name,
    ...(operation ? { operation } : {}),
    ...(code ? { code } : {}),
    ...(described.detail ? { detail: described.detail } : {}),
    ...(described.kind === 'internal' || context.includeStack ? { stack: framesOf(error, name) } : {}),
  };
}

type Classified = Pick<LoggedError, 'kind' | 'operation' | 'code' | 'detail'>;

function classify(error: unknown, { dependency }: ErrorContext): Classified {
  if (error instanceof DrizzleQueryError) {
    return { kind: 'database', operation: sqlOperation(error.query), code: databaseCode(error.cause) };
  }
  if (error instanceof NeonDbError) return { kind: 'database', code: databaseCode(error) };
  if (error instanceof upstashErrors.UpstashError) return { kind: 'redis', ...redisFailure(error) };
  if (error instanceof upstashErrors.UrlError) return { kind: 'redis', code: 'invalid_url' };
  if (error instanceof StripeConnectionError) return { kind: 'stripe', code: 'unreachable' };
  if (error instanceof StripeApiError)
    return { kind: 'stripe', code: error.code ?? `http_${error.statusCode}` };
  if (error instanceof OAuth2RequestError) return { kind: 'oauth', code: error.code };
  if (error instanceof ArcticFetchError) return { kind: 'oauth', code: 'unreachable' };
  if (error instanceof UnexpectedResponseError || error instanceof UnexpectedErrorResponseBodyError) {
    return { kind: 'oauth', code: `http_${error.status}` };
  }
  if (error instanceof AppError) return { kind: 'app', code: error.code };
  if (error instanceof ConfigError) return { kind: 'internal', detail: error.message };
  if (isTimeout(error)) return { kind: dependency ?? 'timeout', code: 'timeout' };
  if (dependency && isNetworkFailure(error)) return { kind: dependency, code: 'unreachable' };
  return { kind: 'internal' };
}

function databaseCode(cause: unknown): string | undefined {
  if (cause instanceof NeonDbError) {
    if (cause.code) return cause.code;
    if (cause.sourceError) return isTimeout(cause.sourceError) ? 'timeout' : 'unreachable';
    const status = /^Server error \(HTTP status (\d{3})\)/.exec(cause.message)?.[1];
    return status ? `http_${status}` : 'invalid_response';
  }
  if (isTimeout(cause)) return 'timeout';
  if (cause instanceof SyntaxError) return 'invalid_response';
  return undefined;
}

const TABLE = String.raw`"?(?:[a-z_][a-z0-9_]*"?\."?)?([a-z_][a-z0-9_]*)`;
const WRITES: [verb: string, pattern: RegExp][] = [
  ['insert', new RegExp(String.raw`\binsert\s+into\s+${TABLE}`, 'i')],
  ['update', new RegExp(String.raw`\bupdate\s+${TABLE}`, 'i')],
  ['delete', new RegExp(String.raw`\bdelete\s+from\s+${TABLE}`, 'i')],
];
const READ = new RegExp(String.raw`\bfrom\s+${TABLE}`, 'i');

/** Between the statements of a failed batch in the query text its error carries (see db/client.ts). */
export const BATCH_SEPARATOR = '\n;\n';

/**
 * The statement's verb and table from the SQL text (placeholders only, never the params): `update users`.
 * A `with` query is named after the first write inside it, or is a select. A batch is named after its
 * first write, or its first statement.
 */
export function sqlOperation(query: string): string {
  const names = query.split(BATCH_SEPARATOR).map(statementOperation);
  return names.find((name) => /^(insert|update|delete) /.test(name)) ?? names[0]!;
}

function statementOperation(query: string): string {
  const verb = /^\s*(select|insert|update|delete|with)\b/i.exec(query)?.[1]?.toLowerCase();
  if (!verb) return 'query';
  const candidates = verb === 'with' ? WRITES : WRITES.filter(([write]) => write === verb);
  for (const [write, pattern] of candidates) {
    const table = pattern.exec(query)?.[1];
    if (table) return `${write} ${table.toLowerCase()}`;
  }
  const table = READ.exec(query)?.[1];
  return table ? `select ${table.toLowerCase()}` : 'select';
}

/** The SDK's message is `<reply>, command was: [...]`; only the reply's error word and the command name are kept. */
function redisFailure(error: Error): Omit<Classified, 'kind'> {
  if (error instanceof upstashErrors.UpstashJSONParseError) return { code: 'invalid_response' };
  const command = /command was: \[+"([A-Za-z]{1,32})"/.exec(error.message)?.[1]?.toLowerCase();
  const reply = /^([A-Z][A-Z_]{1,31})\b/.exec(error.message)?.[1];
  return { ...(command ? { operation: command } : {}), code: reply ?? 'error_reply' };
}

/** The stack's frames under the error's name; the header, which repeats the message, is cut off first. */
function framesOf(error: unknown, name: string): string | undefined {
  if (!(error instanceof Error) || !error.stack) return undefined;
  const end = error.message ? error.stack.indexOf(error.message) : -1;
  const afterHeader = end >= 0 ? error.stack.slice(end + error.message.length) : error.stack;
  const frames = afterHeader.split('\n').filter((line) => /^\s+at\s/.test(line));
  return [name, ...frames].join('\n');
}
