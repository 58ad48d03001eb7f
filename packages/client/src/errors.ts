// The one error the client throws for an answer it cannot use: the HTTP status and the API's problem
// document (RFC 9457, `code` among them), so callers branch on `status` or `problem.code`, not on text.

/** A problem document from the API, as an Error. */
export class EdgeauthError extends Error {
  override readonly name = 'EdgeauthError';

  constructor(
    readonly status: number,
    readonly problem: unknown,
  ) {
    super(
      typeof problem === 'object' && problem && 'detail' in problem
        ? String(problem.detail)
        : `HTTP ${status}`,
    );
  }
}
