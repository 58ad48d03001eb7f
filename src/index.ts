// The Worker entry: HTTP, the email queue consumer and cron triggers share one app and one createServices.
import { createApp } from './app';
import { log } from './lib/log';
import { consumeEmails } from './queue/email-consumer';
import { EMAIL_QUEUE } from './queue/names';
import { createServices } from './services';

const app = createApp();

export default {
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
    await consumeEmails(batch, createServices(env, ctx));
  },
} satisfies ExportedHandler<Env, unknown>;
