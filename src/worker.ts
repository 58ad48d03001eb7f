// Builds the Worker: HTTP, the email queue consumer and cron triggers share one app and one createServices.
import { createApp } from './app';
import { runScheduled } from './cron/run';
import { log } from './lib/log';
import { consumeEmails } from './queue/email-consumer';
import { EMAIL_QUEUE } from './queue/names';
import { createServices, type WorkerOptions } from './services';
import { AuthCache } from './services/auth/auth-cache';

export function createWorker(workerOptions: WorkerOptions = {}) {
  // One cache per Worker: in production, per isolate.
  const options = { ...workerOptions, authCache: workerOptions.authCache ?? new AuthCache() };
  const app = createApp(options);
  return {
    fetch: app.fetch,

    async queue(batch, env, ctx) {
      if (batch.queue !== EMAIL_QUEUE) {
        log('error', 'message batch from an unknown queue', {
          queue: batch.queue,
          size: batch.messages.length,
        });
        batch.retryAll();
        return;
      }
      await consumeEmails(batch, createServices(env, ctx, options));
    },

    async scheduled(controller, env, ctx) {
      await runScheduled(controller.cron, createServices(env, ctx, options));
    },
  } satisfies ExportedHandler<Env, unknown>;
}
