// What a Stripe event means, decided without Stripe or a database: its shape, its subscription, its email.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import { noticeFor, parseWebhookEvent, subscriptionIdOf } from '../../src/services/billing/webhook-event';

const now = new Date('2030-06-15T12:00:00Z');
const created = Math.floor(now.getTime() / 1000) - 60;

const envelope = (type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'evt_1',
  type,
  created,
  data: { object, ...extra },
});
const invoice = (fields: Record<string, unknown> = {}) => ({
  id: 'in_1',
  customer: 'cus_1',
  currency: 'usd',
  amount_paid: 1000,
  amount_due: 1000,
  created,
  parent: { subscription_details: { subscription: 'sub_1' } },
  ...fields,
});
const subscription = (priceId: string, fields: Record<string, unknown> = {}) => ({
  id: 'sub_1',
  cancel_at_period_end: false,
  items: { data: [{ price: { id: priceId } }] },
  ...fields,
});
const parse = (payload: unknown) => parseWebhookEvent(payload, now);

function refusal(payload: unknown): AppError {
  try {
    parse(payload);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the event was accepted');
}

describe('parseWebhookEvent', () => {
  it('reads the subject of each handled kind and leaves other types unhandled', () => {
    expect(parse(envelope('invoice.paid', invoice())).subject).toMatchObject({
      kind: 'invoice',
      invoice: { id: 'in_1', amount_paid: 1000 },
    });
    expect(
      parse(envelope('checkout.session.completed', { id: 'cs_1', subscription: 'sub_1' })).subject,
    ).toEqual({
      kind: 'checkout',
      session: { id: 'cs_1', subscription: 'sub_1' },
    });
    expect(parse(envelope('customer.created', { id: 'cus_1' })).subject).toEqual({ kind: 'unhandled' });
  });

  it('names the path of a malformed field, never its value', () => {
    const bad = refusal(envelope('invoice.paid', invoice({ currency: 'US Dollars\u0000' })));
    expect(bad.code).toBe('INVALID_WEBHOOK_EVENT');
    expect(bad.detail).toBe('Malformed Stripe event: data.object.currency is missing or invalid');
    expect(refusal('not json').detail).toBe('Malformed Stripe event: not a JSON object');
  });

  it('refuses ids of the wrong kind and timestamps from the future or before Stripe', () => {
    expect(
      refusal(envelope('customer.subscription.updated', subscription('price_1', { id: 'in_1' }))).message,
    ).toMatch(/data\.object\.id/);
    expect(
      refusal({ ...envelope('invoice.paid', invoice()), created: created + 2 * 86_400 }).message,
    ).toMatch(/created/);
    expect(refusal({ ...envelope('invoice.paid', invoice()), created: 1_000_000 }).message).toMatch(
      /created/,
    );
  });
});

describe('subscriptionIdOf', () => {
  it('finds the subscription through each kind of subject, expanded or not', () => {
    const of = (payload: unknown) => subscriptionIdOf(parse(payload).subject);
    expect(of(envelope('customer.subscription.deleted', subscription('price_1')))).toBe('sub_1');
    expect(of(envelope('checkout.session.completed', { id: 'cs_1', subscription: { id: 'sub_2' } }))).toBe(
      'sub_2',
    );
    expect(of(envelope('invoice.paid', invoice()))).toBe('sub_1');
    expect(of(envelope('invoice.paid', invoice({ parent: null })))).toBeNull();
    expect(of(envelope('customer.created', { id: 'cus_1' }))).toBeNull();
  });
});

describe('noticeFor', () => {
  const notice = (payload: unknown) => noticeFor(parse(payload));

  it('tells the subscriber of a first payment, a renewal and a failed payment, not of other invoices', () => {
    expect(notice(envelope('invoice.paid', invoice({ billing_reason: 'subscription_create' })))).toBe(
      'started',
    );
    expect(notice(envelope('invoice.paid', invoice({ billing_reason: 'subscription_cycle' })))).toBe(
      'renewed',
    );
    expect(notice(envelope('invoice.payment_failed', invoice()))).toBe('payment_failed');
    expect(notice(envelope('invoice.paid', invoice({ billing_reason: 'manual' })))).toBeNull();
    // The same payment arrives twice (paid and payment_succeeded): only one of them sends mail.
    expect(
      notice(envelope('invoice.payment_succeeded', invoice({ billing_reason: 'subscription_create' }))),
    ).toBeNull();
  });

  it('tells of a scheduled cancellation, a plan change and the end, not of a renewal of the items', () => {
    const updated = (sub: unknown, previous: unknown) =>
      notice(
        envelope('customer.subscription.updated', sub as Record<string, unknown>, {
          previous_attributes: previous,
        }),
      );
    expect(
      updated(subscription('price_1', { cancel_at_period_end: true }), { cancel_at_period_end: false }),
    ).toBe('cancel_scheduled');
    expect(updated(subscription('price_2'), { items: { data: [{ price: { id: 'price_1' } }] } })).toBe(
      'plan_changed',
    );
    expect(updated(subscription('price_1'), { items: { data: [{ price: { id: 'price_1' } }] } })).toBeNull();
    expect(updated(subscription('price_1'), { items: { data: [{}] } })).toBeNull();
    expect(notice(envelope('customer.subscription.deleted', subscription('price_1')))).toBe('ended');
    expect(notice(envelope('customer.subscription.created', subscription('price_1')))).toBeNull();
  });
});
