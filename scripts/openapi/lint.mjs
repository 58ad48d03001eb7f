// Redocly's linter (the recommended ruleset, as configured in redocly.yaml) over the served document.
// Errors and warnings both count: a rule we accept breaking is switched off in redocly.yaml, with why.
import { createRequire } from 'node:module';
import path from 'node:path';
import { run } from './run.mjs';

const require = createRequire(import.meta.url);

/** @returns {Promise<{ title: string, errors: string[], warnings: string[] }>} */
export async function lintWithRedocly({ root, file }) {
  const packageJson = require.resolve('@redocly/cli/package.json');
  const { version } = require(packageJson);
  const config = path.join(root, 'redocly.yaml');
  const title = `Redocly lint (@redocly/cli ${version}, recommended ruleset as configured in redocly.yaml)`;
  const { code, stdout, stderr } = await run(
    process.execPath,
    [path.join(path.dirname(packageJson), 'bin/cli.js'), 'lint', file, '--config', config].concat([
      '--lint-config',
      'error',
      '--format',
      'json',
      '--max-problems',
      '1000',
    ]),
    // No telemetry and no update check: a check must not phone home.
    { cwd: root, env: { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
  );
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    const tail = stderr.trim().split('\n').slice(-20).join('\n');
    return { title, errors: [`redocly lint exited ${code} without a report:\n${tail}`], warnings: [] };
  }
  const describe = (problem) =>
    `${problem.ruleId}: ${problem.message} (${problem.location?.[0]?.pointer ?? 'document'})`;
  const problems = report.problems ?? [];
  const errors = problems.filter((problem) => problem.severity === 'error').map(describe);
  if (code !== 0 && errors.length === 0) errors.push(`redocly lint exited ${code}`);
  const warnings = problems.filter((problem) => problem.severity !== 'error').map(describe);
  return { title, errors, warnings };
}
