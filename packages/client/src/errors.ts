// The one error the client throws for an answer it cannot use: the HTTP status and the API's problem
// document (RFC 9457, `code` among them), so callers branch on `status` or `problem.code`, not on text.

/** The API's problem document (every error the API sends has this shape). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** The stable error code, e.g. INVALID_CREDENTIALS: branch on this. */
  code?: string;
  request_id?: string;
  [extension: string]: unknown;
}

/** A problem document from the API, as an Error. `problem` is null when the body was not one. */
export class EdgeauthError extends Error {
  override readonly name = 'EdgeauthError';
  readonly problem: Problem | null;

  constructor(
    readonly status: number,
    body: unknown,
  ) {
    const problem = typeof body === 'object' && body !== null ? (body as Problem) : null;
    super(typeof problem?.detail === 'string' ? problem.detail : `HTTP ${status}`);
    this.problem = problem;
  }
}
