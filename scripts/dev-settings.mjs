// Which settings `npm run dev` gives the Worker: the user's own (shell, then .dev.vars) win per
// integration, and a local stand-in fills an integration only where the user left every one of its
// variables unset or at .dev.vars.example's placeholder. Pure functions, so test/unit can check them.

/** Each outside dependency the stand-ins can replace, with the variables that configure it. */
export const INTEGRATIONS = [
  { id: 'database', label: 'Database', keys: ['DATABASE_URL', 'NEON_FETCH_ENDPOINT'] },
  { id: 'redis', label: 'Redis', keys: ['UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN'] },
  { id: 'mail', label: 'Mail', keys: ['MAIL_API_URL', 'MAIL_API_KEY'] },
  {
    id: 'google',
    label: 'Google',
    keys: [
      'GOOGLE_CLIENT_ID',
      'GOOGLE_CLIENT_SECRET',
      'GOOGLE_AUTH_URL',
      'GOOGLE_TOKEN_URL',
      'GOOGLE_USERINFO_URL',
    ],
  },
  {
    id: 'github',
    label: 'GitHub',
    keys: [
      'GITHUB_CLIENT_ID',
      'GITHUB_CLIENT_SECRET',
      'GITHUB_AUTHORIZE_URL',
      'GITHUB_TOKEN_URL',
      'GITHUB_USER_API',
      'GITHUB_EMAILS',
    ],
  },
  { id: 'stripe', label: 'Stripe', keys: ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE'] },
];

/**
 * Example values that name a local stand-in: with the user's own integration they would point it back
 * at the stand-in, so they are cleared and the Worker's production default applies.
 */
const STANDIN_ADDRESSES = ['NEON_FETCH_ENDPOINT', 'MAIL_API_URL'];

/** The values of a dotenv file, as far as deciding who set what needs (wrangler reads the file itself). */
export function parseEnvFile(text) {
  /** @type {Record<string, string>} */
  const values = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, name, raw] = /** @type {[string, string, string]} */ (match);
    const quoted = /^(['"])(.*)\1\s*(#.*)?$/.exec(raw);
    values[name] = quoted ? (quoted[2] ?? '') : raw.replace(/\s+#.*$/, '').trim();
  }
  return values;
}

/**
 * @typedef {{
 *   example: Record<string, string>, // .dev.vars.example
 *   devVars: Record<string, string>, // the user's .dev.vars ({} when there is none)
 *   shell: Record<string, string | undefined>, // process.env; only names the example lists count
 * }} UserSettings
 * @typedef {'shell' | '.dev.vars' | 'stand-in'} Source
 */

/** The shell's values for the example's names, and how to tell a value the user chose from a placeholder. */
function readSettings({ example, devVars, shell }) {
  /** @type {Record<string, string>} */
  const fromShell = {};
  for (const name of Object.keys(example)) {
    const value = shell[name];
    if (value !== undefined) fromShell[name] = value;
  }
  const userValue = (name) => fromShell[name] ?? devVars[name] ?? '';
  const isUsers = (name) => userValue(name) !== '' && userValue(name) !== (example[name] ?? '');
  return { fromShell, userValue, isUsers };
}

/**
 * Per integration id: who serves it. The user does as soon as any of its variables is set to a value
 * of their own (the shell beating .dev.vars); otherwise the stand-in.
 * @param {UserSettings} settings @returns {Record<string, Source>}
 */
export function integrationSources(settings) {
  const { fromShell, isUsers } = readSettings(settings);
  return Object.fromEntries(
    INTEGRATIONS.map(({ id, keys }) => {
      const own = keys.filter(isUsers);
      if (own.length === 0) return [id, 'stand-in'];
      return [id, own.some((name) => name in fromShell) ? 'shell' : '.dev.vars'];
    }),
  );
}

/**
 * What the private env file that follows .dev.vars must say: the stand-ins' values for the
 * integrations they serve, the shell's values (which beat .dev.vars), and the addresses of this API,
 * which follow the port it listens on.
 * @param {UserSettings & {
 *   standins: Record<string, Record<string, string>>, // per integration id, the stand-in's values
 *   api: string, // the API's base URL
 *   apiPort: number,
 * }} input
 * @returns {{ vars: Record<string, string>, sources: Record<string, Source> }}
 */
export function resolveDevSettings({ standins, api, apiPort, ...settings }) {
  const { fromShell, userValue, isUsers } = readSettings(settings);
  const sources = integrationSources(settings);
  /** @type {Record<string, string>} */
  const vars = { ...fromShell };
  for (const { id, keys } of INTEGRATIONS) {
    if (sources[id] === 'stand-in') {
      Object.assign(vars, standins[id] ?? {});
      continue;
    }
    for (const name of keys) {
      if (STANDIN_ADDRESSES.includes(name) && !isUsers(name)) vars[name] = '';
    }
  }

  if (!isUsers('APP_URL')) vars.APP_URL = api;
  // The API's own pages (docs) call it from its origin, under either loopback name.
  const origins = userValue('CORS_ORIGINS')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  vars.CORS_ORIGINS = [...new Set([...origins, api, `http://127.0.0.1:${apiPort}`])].join(',');
  return { vars, sources };
}
