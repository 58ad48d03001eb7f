// Browsers ask every origin for /favicon.ico: the stand-ins whose pages people open answer with an icon
// (the API's own comes from its static assets, public/favicon.ico, checked by the browser tests).
import { describe, expect, it } from 'vitest';
import { bindings } from '../support/bindings';

const ICO_HEADER = [0, 0, 1, 0]; // reserved, type 1 = icon

describe('/favicon.ico', () => {
  for (const [name, url] of [
    ['mail sink', bindings.TEST_MAIL_URL],
    ['Stripe stand-in', bindings.TEST_STRIPE_URL],
    ['Google and GitHub stand-in', bindings.TEST_OAUTH_URL],
  ] as const) {
    it(`is an icon on the ${name}`, async () => {
      const response = await fetch(`${url}/favicon.ico`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/x-icon');
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect([...bytes.slice(0, 4)]).toEqual(ICO_HEADER);
      expect(bytes.length).toBeLessThan(2048);
    });
  }
});
