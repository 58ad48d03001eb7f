// Runs the job behind a cron trigger and logs what it did. Cron may overlap and has no exactly-once
// promise, so every job is idempotent.
import { log } from '../lib/log';
import type { Services } from '../services';
import { cleanUpExpired } from './cleanup';
import { DAILY_CLEANUP, HOURLY_SWEEP } from './schedules';
import { sweepSubscriptions } from './sweep';

export async function runScheduled(cron: string, services: Services): Promise<void> {
  const started = Date.now();
  if (cron === DAILY_CLEANUP) {
    const deleted = await cleanUpExpired(services.db, services.clock.now());
    log('info', 'cron done', { cron, job: 'cleanup', deleted, duration_ms: Date.now() - started });
    return;
  }
  if (cron === HOURLY_SWEEP) {
    const swept = await sweepSubscriptions(
      services.db,
      services.clock.now(),
      services.config.PAST_DUE_GRACE_DAYS,
    );
    // The isolate that swept forgets every cached subscription at once; others within the TTL.
    if (swept.ended + swept.lapsed > 0) services.authCache.forgetAll();
    log('info', 'cron done', {
      cron,
      job: 'subscription sweep',
      ...swept,
      duration_ms: Date.now() - started,
    });
    return;
  }
  log('error', 'cron trigger without a job', { cron });
}
