// Cron expressions as configured in wrangler.toml [triggers]; the scheduled handler dispatches on them.
export const HOURLY_SWEEP = '0 * * * *';
export const DAILY_CLEANUP = '30 3 * * *';
