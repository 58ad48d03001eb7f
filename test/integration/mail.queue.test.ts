// The email queue consumer through the Worker's queue handler: rendering, delivery to the relay,
// per-message ack, retries with backoff on 429/5xx, and the dead-letter queue after the limit.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import { seal } from '../../src/lib/crypto';
import { backoffSeconds, MAIL_MAX_ATTEMPTS } from '../../src/queue/email-consumer';
import { SEAL_PURPOSE } from '../../src/services/mail/jobs';
import { uniqueEmail } from '../support/accounts';
import { bindings } from '../support/bindings';
import { mailsTo, waitForMail } from '../support/mailbox';
import { testEnv } from '../support/worker';

afterEach(() => vi.restoreAllMocks());

const TOKEN = 'secret-link-token-0123456789abcdef';

async function verificationJob(to: string) {
  return {
    id: crypto.randomUUID(),
    to,
    template: 'verify_email',
    data: { username: 'ann', expiresInSeconds: 900 },
    sealedSecret: await seal(bindings.VALIDATION_SECRET_KEY, SEAL_PURPOSE, TOKEN),
  };
}

async function runBatch(bodies: unknown[], { attempts = 1, env = testEnv() } = {}) {
  const batch = createMessageBatch(
    'edgeauth-email',
    bodies.map((body, i) => ({
      id: `msg-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts,
      body,
    })),
  );
  // getQueueResult reports which messages were retried but not with what delay: record that too.
  const delays = batch.messages.map((message) => vi.spyOn(message, 'retry'));
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  const retryDelays = delays.flatMap((spy, i) =>
    spy.mock.calls.map(([options]) => ({
      msgId: batch.messages[i]!.id,
      delaySeconds: options?.delaySeconds,
    })),
  );
  return { batch, result, retryDelays };
}

async function injectRelayFault(mode: 'error' | 'ratelimit', jobId: string, count = 1) {
  const response = await fetch(`${bindings.TEST_MAIL_URL}/_standin/fault`, {
    method: 'POST',
    body: JSON.stringify({ mode, count, match: jobId }),
  });
  expect(response.status).toBe(200);
}

describe('email queue consumer', () => {
  it('renders the template and delivers the exact message, then acks', async () => {
    const to = uniqueEmail('queue');
    const job = await verificationJob(to);
    const { batch, result } = await runBatch([job]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([]);
    const mail = await waitForMail(to);
    expect(mail.Subject).toBe('Verify your email for edgeauth-test');
    expect(mail.To).toEqual([{ Name: '', Address: to }]);
    expect(mail.Text).toContain(`http://api.edgeauth.test/verify?token=${TOKEN}`);
    expect(mail.HTML).toContain(`href="http://api.edgeauth.test/verify?token=${TOKEN}"`);
    expect(mail.Text).toContain('expires in 15 minutes');
  });

  it('is idempotent per job: a redelivered job is not sent twice', async () => {
    const to = uniqueEmail('redelivered');
    const job = await verificationJob(to);
    await runBatch([job]);
    await runBatch([job], { attempts: 2 });
    expect(await mailsTo(to)).toHaveLength(1);
  });

  it('retries a relay 500 with exponential backoff and delivers once after recovery', async () => {
    const to = uniqueEmail('flaky');
    const job = await verificationJob(to);
    await injectRelayFault('error', job.id, 2);
    const first = await runBatch([job], { attempts: 1 });
    expect(first.result.retryMessages).toEqual([{ msgId: first.batch.messages[0]!.id }]);
    expect(first.retryDelays).toEqual([{ msgId: first.batch.messages[0]!.id, delaySeconds: 10 }]);
    expect(first.result.explicitAcks).toEqual([]);
    const second = await runBatch([job], { attempts: 2 });
    expect(second.retryDelays).toEqual([{ msgId: second.batch.messages[0]!.id, delaySeconds: 20 }]);
    const third = await runBatch([job], { attempts: 3 });
    expect(third.result.explicitAcks).toHaveLength(1);
    expect(await mailsTo(to)).toHaveLength(1);
  });

  it('honours Retry-After on a relay 429', async () => {
    const job = await verificationJob(uniqueEmail('throttled'));
    await injectRelayFault('ratelimit', job.id);
    const { batch, retryDelays } = await runBatch([job]);
    // The sink asks for 1 s; the backoff floor (10 s) is longer, so it wins.
    expect(retryDelays).toEqual([{ msgId: batch.messages[0]!.id, delaySeconds: 10 }]);
  });

  it('moves a job to the dead-letter queue after the last attempt', async () => {
    const sent = vi.spyOn(bindings.EMAIL_DLQ, 'send');
    const to = uniqueEmail('doomed');
    const job = await verificationJob(to);
    await injectRelayFault('error', job.id);
    const { batch, result } = await runBatch([job], { attempts: MAIL_MAX_ATTEMPTS });
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([]);
    expect(sent).toHaveBeenCalledTimes(1);
    expect(sent.mock.calls[0]![0]).toMatchObject({
      job,
      reason: 'relay answered 500',
      attempts: MAIL_MAX_ATTEMPTS,
    });
    expect(await mailsTo(to)).toHaveLength(0);
  });

  it('dead-letters a malformed job at once instead of retrying it forever', async () => {
    const sent = vi.spyOn(bindings.EMAIL_DLQ, 'send');
    const { result } = await runBatch([{ template: 'no_such_template', to: 'x' }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(sent.mock.calls[0]![0]).toMatchObject({ reason: 'malformed job' });
  });

  it('dead-letters a job whose sealed secret was tampered with', async () => {
    const sent = vi.spyOn(bindings.EMAIL_DLQ, 'send');
    const job = { ...(await verificationJob(uniqueEmail('tampered'))), sealedSecret: 'AAAA.BBBB' };
    const { result } = await runBatch([job]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(sent.mock.calls[0]![0]).toMatchObject({ reason: 'secret unreadable' });
  });

  it('settles each message of a batch on its own', async () => {
    const good = await verificationJob(uniqueEmail('good'));
    const bad = await verificationJob(uniqueEmail('bad'));
    await injectRelayFault('error', bad.id);
    const { batch, result, retryDelays } = await runBatch([good, bad]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([{ msgId: batch.messages[1]!.id }]);
    expect(retryDelays).toEqual([{ msgId: batch.messages[1]!.id, delaySeconds: 10 }]);
  });

  it('never logs the secret or the recipient', async () => {
    const lines: string[] = [];
    for (const method of ['log', 'debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((line: unknown) => lines.push(String(line)));
    }
    const to = uniqueEmail('quiet');
    const job = await verificationJob(to);
    await injectRelayFault('error', job.id);
    await runBatch([job]);
    await runBatch([job], { attempts: 2 });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const all = lines.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(to);
  });
});

describe('backoffSeconds', () => {
  it('doubles from 10 s and caps at 15 minutes, never under Retry-After', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffSeconds(n))).toEqual([10, 20, 40, 80, 160]);
    expect(backoffSeconds(20)).toBe(900);
    expect(backoffSeconds(1, 120)).toBe(120);
  });
});
