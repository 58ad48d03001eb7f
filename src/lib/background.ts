// Work that must not change how long a response takes (so timing reveals nothing, e.g. whether an
// account exists) runs after the response, inside the invocation's waitUntil. Failures are logged.
import { log } from './log';
import { describeError } from './log-error';

export function runAfterResponse(ctx: ExecutionContext, name: string, work: () => Promise<unknown>): void {
  ctx.waitUntil(
    work().catch((error: unknown) => {
      log('error', 'background work failed', { work: name, error: describeError(error) });
    }),
  );
}
