// Finishes the generated OpenAPI document with what every operation shares, so no route has to repeat
// it: an operationId derived from method and path, and references to the registered responses for the
// errors any request can meet (405, 413, 500; with a body also 415).
import { sharedProblemResponses } from './problem-schema';

type Operation = { operationId?: string; requestBody?: unknown; responses?: Record<string, unknown> };

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** `post /billing/plans/{id}` → `postBillingPlansById`, stable and readable for generated clients. */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith('{') ? `by-${part.slice(1, -1)}` : part))
    .flatMap((part) => part.split(/[-_]/))
    .filter(Boolean);
  return [method, ...words]
    .map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1)))
    .join('');
}

export function finishDocument<T extends { paths?: object }>(doc: T): T {
  const shared = sharedProblemResponses({ withBody: false });
  const withBody = sharedProblemResponses({ withBody: true });
  for (const [path, item] of Object.entries(doc.paths ?? {}) as [string, Record<string, Operation>][]) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      operation.operationId ??= operationIdFor(method, path);
      operation.responses = { ...(operation.requestBody ? withBody : shared), ...operation.responses };
    }
  }
  return doc;
}
