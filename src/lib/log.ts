// Structured logging: one JSON object per line. Fields that could carry secrets are redacted here,
// so no caller can leak a password, token or code by passing it along by mistake.
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LOG_LEVELS)[number];

/** Lines below this level are dropped; set from LOG_LEVEL whenever a Worker entry builds its services. */
let threshold = LOG_LEVELS.indexOf('info');

export function setLogLevel(level: Level): void {
  threshold = LOG_LEVELS.indexOf(level);
}

const SECRET_KEY = /pass(word)?|token|secret|code|authorization|cookie|api[_-]?key|signature/i;

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    safe[key] = SECRET_KEY.test(key) && value !== undefined ? '[redacted]' : value;
  }
  return safe;
}

export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (LOG_LEVELS.indexOf(level) < threshold) return;
  const line = JSON.stringify({ level, msg: message, time: new Date().toISOString(), ...redact(fields) });
  // Each level by its own console method, so the platform's log keeps the level (and wrangler dev passes
  // info and debug lines through as they are, where it scans each console.log line for a stack to map).
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else if (level === 'info') console.info(line);
  else console.debug(line);
}
