// Bounds how long we wait on a dependency: a slow database or Redis must not hang a request.
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';
}

export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  const deadline = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(new DeadlineExceededError(`no answer within ${ms} ms`)), {
      once: true,
    });
  });
  // The deadline still fires after `work` wins the race; nobody awaits it then, so mark it handled.
  deadline.catch(() => {});
  return Promise.race([work, deadline]);
}
