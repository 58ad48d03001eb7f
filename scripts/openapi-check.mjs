// `npm run openapi:check`: checks the OpenAPI document the Worker serves, the way an adopter meets it.
// Starts a throw-away stack (stand-ins + wrangler dev on free ports) and fetches /openapi.json; checks it
// against the OpenAPI 3.1 schema, our own rules (scripts/openapi/rules.mjs) and Redocly's linter; then
// generates TypeScript types with openapi-typescript, type-checks an openapi-fetch consumer against them
// and runs it against the stack. Exits non-zero on any finding. `--url <server base URL or document URL>`
// checks a running server instead (the consumer then registers an account there).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { root, startHealthyTestStack } from './dev-stack.mjs';
import { checkGeneratedClient } from './openapi/client.mjs';
import { lintWithRedocly } from './openapi/lint.mjs';
import {
  errorResponsesOf,
  errorsNotProblemJson,
  MAX_DOCUMENT_BYTES,
  operationsOf,
  operationsWithoutSuccess,
  PROBLEM_JSON,
  problemResponseFindings,
  sizeFindings,
  zodInternals,
} from './openapi/rules.mjs';
import { openapiTarget } from './openapi/target.mjs';

const resultsDir = path.join(root, 'test-results/openapi');
const { values: args } = parseArgs({ options: { url: { type: 'string' } } });

/** The API to check: a stack started here unless --url is given. */
async function startTarget() {
  if (args.url) return { ...openapiTarget(args.url), stop() {} };
  const stack = await startHealthyTestStack({ logFile: path.join(resultsDir, 'wrangler.log') });
  return { url: `${stack.api}/openapi.json`, api: stack.api, stop: () => stack.stop() };
}

/** The document as served: its bytes (for the size) and its parsed value. */
async function fetchDocument(url) {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  const text = await response.text();
  return { bytes: Buffer.byteLength(text), document: JSON.parse(text) };
}

/** Schema validation; ajv's warnings are collected instead of printed, so they count as findings. */
async function validateSchema(document) {
  const warnings = [];
  const logger = { log() {}, warn: (...parts) => warnings.push(parts.join(' ')), error() {} };
  const validator = new Validator({ allErrors: true, logger });
  const result = await validator.validate(structuredClone(document));
  const errors = result.valid ? [] : formatValidatorErrors(result.errors);
  return { version: validator.version, errors, warnings };
}

function formatValidatorErrors(errors) {
  if (!Array.isArray(errors)) return [String(errors)];
  return errors.map((error) => {
    const where = error.instancePath || '(document root)';
    const params = Object.keys(error.params ?? {}).length ? ` ${JSON.stringify(error.params)}` : '';
    return `${where}: ${error.message}${params} (schema ${error.schemaPath})`;
  });
}

const validatorVersion = createRequire(import.meta.url)(
  '@seriousme/openapi-schema-validator/package.json',
).version;

async function documentChecks(document, bytes) {
  const schema = await validateSchema(document);
  const operations = [...operationsOf(document)].length;
  const errorResponses = errorResponsesOf(document).length;
  const noSuccess = operationsWithoutSuccess(document);
  const notProblem = errorsNotProblemJson(document);
  return [
    {
      title: `OpenAPI 3.1 document (openapi: ${JSON.stringify(document.openapi)})`,
      errors: schema.version === '3.1' ? [] : ['expected openapi: 3.1.x'],
    },
    {
      title: `valid against the OpenAPI ${schema.version ?? ''} schema (@seriousme/openapi-schema-validator ${validatorVersion})`,
      errors: schema.errors,
      warnings: schema.warnings,
    },
    { title: 'JSON Schema throughout: no zod internals (def, shape, _zod)', errors: zodInternals(document) },
    {
      title: `every operation documents a 2xx or 3xx response (${operations - noSuccess.length}/${operations})`,
      errors: noSuccess,
    },
    {
      title: `every 4xx/5xx response is ${PROBLEM_JSON} (${errorResponses - notProblem.length}/${errorResponses})`,
      errors: notProblem,
    },
    {
      title: 'every problem response: code an enum, status its own, an example of each code it can carry',
      errors: problemResponseFindings(document),
    },
    { title: `smaller than ${MAX_DOCUMENT_BYTES} bytes (${bytes})`, errors: sizeFindings(bytes) },
  ];
}

/** At most `limit` lines of a list, so a broken document reads as a summary, not 6,000 lines. */
const firstOf = (lines, limit = 25) =>
  lines.length > limit ? [...lines.slice(0, limit), `… and ${lines.length - limit} more`] : lines;

function report(url, document, checks) {
  const paths = Object.keys(document.paths ?? {}).length;
  console.log(`OpenAPI check of ${url}: ${paths} paths, ${[...operationsOf(document)].length} operations`);
  for (const { title, errors, warnings = [], notes = [] } of checks) {
    console.log(`  ${errors.length + warnings.length ? '✗' : '✓'} ${title}`);
    for (const error of firstOf(errors)) console.log(`      error: ${error}`);
    for (const warning of firstOf(warnings)) console.log(`      warning: ${warning}`);
    for (const note of notes) console.log(`      ${note}`);
  }
  const errorCount = checks.reduce((sum, check) => sum + check.errors.length, 0);
  const warningCount = checks.reduce((sum, check) => sum + (check.warnings?.length ?? 0), 0);
  return { errorCount, warningCount };
}

try {
  mkdirSync(resultsDir, { recursive: true });
  const target = await startTarget();
  let checks;
  let document;
  try {
    const fetched = await fetchDocument(target.url);
    document = fetched.document;
    const saved = path.join(resultsDir, 'openapi.json');
    writeFileSync(saved, `${JSON.stringify(document, null, 2)}\n`);
    checks = [
      ...(await documentChecks(document, fetched.bytes)),
      await lintWithRedocly({ root, file: saved }),
      ...(await checkGeneratedClient({ root, document, api: target.api, resultsDir })),
    ];
  } finally {
    await target.stop();
  }
  const { errorCount, warningCount } = report(target.url, document, checks);
  const failed = errorCount + warningCount > 0;
  console.log(
    `\nOpenAPI check ${failed ? 'FAILED' : 'passed'}: ${errorCount} errors, ${warningCount} warnings ` +
      `(document and generated types saved to ${path.relative(root, resultsDir)}/).`,
  );
  process.exit(failed ? 1 : 0);
} catch (error) {
  console.error(`OpenAPI check could not run: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
