// The outbound guard (test/support/outbound-guard.ts): a request to a host no test stood up fails.
import { describe, expect, it } from 'vitest';
import { bindings } from '../support/bindings';
import { PROBE_HOST } from '../support/outbound-guard';

describe('outbound guard', () => {
  it('refuses a request to a host nobody stood up', async () => {
    const response = await fetch(`https://${PROBE_HOST}/v1/charges`, { method: 'POST' });
    expect(response.status).toBe(502);
    expect(response.headers.get('x-outbound-guard')).toBe('refused');
    expect(await response.text()).toBe(`outbound guard: no test stood up ${PROBE_HOST}`);
  });

  it('lets requests to the loopback stand-ins through', async () => {
    const response = await fetch(`${bindings.TEST_MAIL_URL}/_standin/health`);
    expect(response.status).toBe(200);
  });
});
