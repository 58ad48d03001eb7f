// Our own rules for the served OpenAPI document, on top of the OpenAPI schema and Redocly's: what a
// generated client needs (real JSON Schema, precise problem responses with matching examples) and a size
// that a docs page and a code generator load quickly. Each rule returns a list of findings.

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
export const PROBLEM_JSON = 'application/problem+json';
export const MAX_DOCUMENT_BYTES = 150_000;

/** Keys of zod's own objects: a schema that holds one was dumped, not converted to JSON Schema. */
const ZOD_INTERNALS = new Set(['def', '_def', '_zod', 'shape']);

export function resolveRef(document, value) {
  if (!value?.$ref?.startsWith('#/')) return value;
  const target = value.$ref
    .slice(2)
    .split('/')
    .reduce((node, key) => node?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], document);
  if (target === undefined) throw new Error(`unresolved ${value.$ref}`);
  return resolveRef(document, target);
}

/** Every operation, with its `responses` resolved through components.responses when referenced. */
export function* operationsOf(document) {
  for (const [route, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const responses = Object.entries(operation.responses ?? {}).map(([status, response]) => [
        status,
        resolveRef(document, response),
      ]);
      yield { name: `${method.toUpperCase()} ${route}`, operation, responses };
    }
  }
}

const isSuccess = (status) => /^[23]([0-9]{2}|XX)$/.test(status);
const isError = (status) => /^[45]([0-9]{2}|XX)$/.test(status) || status === 'default';

export function errorResponsesOf(document) {
  return [...operationsOf(document)].flatMap(({ name, responses }) =>
    responses.filter(([status]) => isError(status)).map(([status, response]) => ({ name, status, response })),
  );
}

export function operationsWithoutSuccess(document) {
  return [...operationsOf(document)]
    .filter(({ responses }) => !responses.some(([status]) => isSuccess(status)))
    .map(({ name }) => `${name}: no 2xx or 3xx response documented`);
}

export function errorsNotProblemJson(document) {
  return errorResponsesOf(document)
    .filter(({ response }) => !response?.content?.[PROBLEM_JSON])
    .map(({ name, status, response }) => {
      const types = Object.keys(response?.content ?? {});
      return `${name} ${status}: ${types.length ? types.join(', ') : 'no content'}, not ${PROBLEM_JSON}`;
    });
}

/** Where zod objects were written into the document (`properties` and examples hold names and data). */
export function zodInternals(node, where = '#') {
  if (Array.isArray(node)) return node.flatMap((item, i) => zodInternals(item, `${where}/${i}`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => {
    const at = `${where}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (['properties', 'example', 'examples'].includes(key)) {
      return value && typeof value === 'object' && key === 'properties'
        ? Object.entries(value).flatMap(([name, schema]) => zodInternals(schema, `${at}/${name}`))
        : [];
    }
    return [
      ...(ZOD_INTERNALS.has(key) ? [`${at}: zod's "${key}", not JSON Schema`] : []),
      ...zodInternals(value, at),
    ];
  });
}

/** A schema's properties, following $ref and merging allOf (later parts narrow earlier ones). */
export function propertiesOf(document, schema) {
  const resolved = resolveRef(document, schema) ?? {};
  const inherited = (resolved.allOf ?? []).map((part) => propertiesOf(document, part));
  return Object.assign({}, ...inherited, resolved.properties ?? {});
}

/**
 * Each problem response names the codes it can carry (`code` is an enum, `status` is the response's
 * own), and shows one example per code whose status and code are that response's.
 */
export function problemResponseFindings(document) {
  return errorResponsesOf(document).flatMap(({ name, status, response }) => {
    const media = response?.content?.[PROBLEM_JSON];
    if (!media) return [];
    const where = `${name} ${status}`;
    const { code, status: statusSchema } = propertiesOf(document, media.schema);
    const codes = code?.enum ?? [];
    const findings = [];
    if (codes.length === 0) findings.push(`${where}: schema's code is not an enum of error codes`);
    if (JSON.stringify(statusSchema?.enum) !== JSON.stringify([Number(status)])) {
      findings.push(`${where}: schema's status is ${JSON.stringify(statusSchema)}, not the enum [${status}]`);
    }
    const examples = Object.entries(media.examples ?? {}).map(([key, example]) => [
      key,
      resolveRef(document, example)?.value,
    ]);
    if (media.example) examples.push(['example', media.example]);
    for (const [key, value] of examples) {
      if (value?.status !== Number(status) || !codes.includes(value?.code)) {
        findings.push(`${where}: example ${key} is ${value?.status} ${value?.code}`);
      }
    }
    const shown = new Set(examples.map(([, value]) => value?.code));
    for (const missing of codes.filter((c) => !shown.has(c)))
      findings.push(`${where}: no example of ${missing}`);
    return findings;
  });
}

export function sizeFindings(bytes) {
  return bytes < MAX_DOCUMENT_BYTES ? [] : [`${bytes} bytes, the limit is ${MAX_DOCUMENT_BYTES}`];
}
