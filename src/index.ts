// The Worker entry: HTTP, the email queue consumer and cron triggers share one app and one createServices.
import { createApp } from './app';

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
