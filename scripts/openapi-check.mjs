// `npm run openapi:check`: validates the OpenAPI document the Worker serves. Starts a throw-away stack
// (stand-ins + wrangler dev on free ports), fetches /openapi.json, checks it against the OpenAPI 3.1
// schema and our own rules, and exits non-zero on any finding. `--url <address>` checks a running server.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { root, startTestStack } from './dev-stack.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PROBLEM_JSON = 'application/problem+json';
const resultsDir = path.join(root, 'test-results/openapi');

const { values: args } = parseArgs({ options: { url: { type: 'string' } } });

/** The document as the Worker serves it, from a stack started here unless --url is given. */
async function fetchDocument() {
  if (args.url) return { url: args.url, document: await getJson(args.url) };
  const logFile = path.join(resultsDir, 'wrangler.log');
  const stack = await startTestStack({ logFile });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => stack.stop().finally(() => process.exit(128 + os.constants.signals[signal])));
  }
  try {
    if (!(await stack.waitForHealth())) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      throw new Error(`the Worker did not become healthy at ${stack.api}/health. wrangler said:\n${tail}`);
    }
    const url = `${stack.api}/openapi.json`;
    return { url, document: await getJson(url) };
  } finally {
    await stack.stop();
  }
}

async function getJson(url) {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
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

/** Every operation, with its `responses` resolved through components.responses when referenced. */
function* operationsOf(document) {
  for (const [route, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const responses = Object.entries(operation.responses ?? {}).map(([status, response]) => [
        status,
        resolveRef(document, response),
      ]);
      yield { name: `${method.toUpperCase()} ${route}`, responses };
    }
  }
}

function resolveRef(document, value) {
  if (!value?.$ref?.startsWith('#/')) return value;
  const target = value.$ref
    .slice(2)
    .split('/')
    .reduce((node, key) => node?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], document);
  return resolveRef(document, target);
}

const isSuccess = (status) => /^[23]([0-9]{2}|XX)$/.test(status);
const isError = (status) => /^[45]([0-9]{2}|XX)$/.test(status) || status === 'default';

function checkResponses(document) {
  const operations = [...operationsOf(document)];
  const noSuccess = operations
    .filter(({ responses }) => !responses.some(([status]) => isSuccess(status)))
    .map(({ name }) => `${name}: no 2xx or 3xx response documented`);
  const errorResponses = operations.flatMap(({ name, responses }) =>
    responses.filter(([status]) => isError(status)).map(([status, response]) => ({ name, status, response })),
  );
  const notProblem = errorResponses
    .filter(({ response }) => !response?.content?.[PROBLEM_JSON])
    .map(({ name, status, response }) => {
      const types = Object.keys(response?.content ?? {});
      return `${name} ${status}: ${types.length ? types.join(', ') : 'no content'}, not ${PROBLEM_JSON}`;
    });
  return { operations: operations.length, errorResponses: errorResponses.length, noSuccess, notProblem };
}

const validatorVersion = createRequire(import.meta.url)(
  '@seriousme/openapi-schema-validator/package.json',
).version;

try {
  mkdirSync(resultsDir, { recursive: true });
  const { url, document } = await fetchDocument();
  const saved = path.join(resultsDir, 'openapi.json');
  writeFileSync(saved, `${JSON.stringify(document, null, 2)}\n`);
  const schema = await validateSchema(document);
  const responses = checkResponses(document);
  const checks = [
    {
      title: `OpenAPI 3.1 document (openapi: ${JSON.stringify(document.openapi)})`,
      errors: schema.version === '3.1' ? [] : ['expected openapi: 3.1.x'],
    },
    {
      title: `valid against the OpenAPI ${schema.version ?? ''} schema (@seriousme/openapi-schema-validator ${validatorVersion})`,
      errors: schema.errors,
      warnings: schema.warnings,
    },
    {
      title: `every operation documents a 2xx or 3xx response (${responses.operations - responses.noSuccess.length}/${responses.operations})`,
      errors: responses.noSuccess,
    },
    {
      title: `every 4xx/5xx response is ${PROBLEM_JSON} (${responses.errorResponses - responses.notProblem.length}/${responses.errorResponses})`,
      errors: responses.notProblem,
    },
  ];

  const paths = Object.keys(document.paths ?? {}).length;
  console.log(`OpenAPI check of ${url}: ${paths} paths, ${responses.operations} operations`);
  for (const { title, errors, warnings = [] } of checks) {
    console.log(`  ${errors.length + warnings.length ? '✗' : '✓'} ${title}`);
    for (const error of errors) console.log(`      error: ${error}`);
    for (const warning of warnings) console.log(`      warning: ${warning}`);
  }
  const errorCount = checks.reduce((sum, check) => sum + check.errors.length, 0);
  const warningCount = schema.warnings.length;
  const failed = errorCount + warningCount > 0;
  console.log(
    `\nOpenAPI check ${failed ? 'FAILED' : 'passed'}: ${errorCount} errors, ${warningCount} warnings ` +
      `(document saved to ${path.relative(root, saved)}).`,
  );
  process.exit(failed ? 1 : 0);
} catch (error) {
  console.error(`OpenAPI check could not run: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
