// How the dev runner starts `wrangler dev`: settings and secrets travel in env files (read by wrangler,
// private to the user), never as `--var NAME:value` arguments, which every local user can read in `ps`.
// Pure functions, so test/unit can check them.

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The lines of a dotenv file for wrangler's `--env-file`. Values are single-quoted (taken literally by
 * dotenv, `#` included), double-quoted when they hold a `'`, and `$` is escaped, because wrangler expands
 * `$NAME` in env files.
 * @param {Record<string, string>} vars @returns {string}
 */
export function renderEnvFile(vars) {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!NAME.test(name)) throw new Error(`not a variable name: ${JSON.stringify(name)}`);
      if (/[\r\n]/.test(value)) throw new Error(`${name}: a line break cannot go in an env file`);
      const escaped = value.replaceAll('$', '\\$');
      if (!value.includes("'")) return `${name}='${escaped}'\n`;
      // Double quotes keep a ' literally; dotenv reads escapes such as \n inside them, so a value that
      // also holds a " or a backslash cannot be written unchanged (no setting needs one).
      if (value.includes('"') || value.includes('\\')) {
        throw new Error(`${name}: a value with both kinds of quotes or a backslash cannot go in an env file`);
      }
      return `${name}="${escaped}"\n`;
    })
    .join('');
}

/**
 * Arguments for `wrangler dev`. With `--env-file`, wrangler reads only the files given (not .dev.vars
 * on its own), later files overriding earlier ones.
 * @param {{ apiPort: number, envFiles: string[], persistTo?: string }} options @returns {string[]}
 */
export function wranglerDevArgs({ apiPort, envFiles, persistTo }) {
  return [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(apiPort),
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    ...envFiles.flatMap((file) => ['--env-file', file]),
    ...(persistTo ? ['--persist-to', persistTo] : []),
  ];
}
