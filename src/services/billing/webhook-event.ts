// The Stripe event as this app reads it, parsed with zod once the signature has been checked: a correctly
// signed but malformed event (a bug or a test at the sender) becomes a 400 that writes nothing, instead
// of a 500 from deep inside the handler or a NUL byte the database refuses. Also what an event is about:
// its subscription and the email it warrants.
import { z } from 'zod';
import type { SubscriptionNotice } from '../../../emails/subscription';
import { AppError } from '../../errors';
import { idOf } from '../../lib/stripe-ids';

export const HANDLED_EVENTS = {
  'checkout.session.completed': 'checkout',
  'checkout.session.expired': 'checkout',
  'customer.subscription.created': 'subscription',
  'customer.subscription.updated': 'subscription',
  'customer.subscription.deleted': 'subscription',
  'invoice.paid': 'invoice',
  'invoice.payment_succeeded': 'invoice',
  'invoice.payment_failed': 'invoice',
} as const;

export type HandledEvent = keyof typeof HANDLED_EVENTS;

/** Printable ASCII without spaces: what Stripe ids and event types are made of (so no NUL or controls). */
const PRINTABLE = /^[\x21-\x7e]+$/;
const stripeId = (prefix: string) => z.string().max(255).regex(PRINTABLE).startsWith(prefix);
/** A field Stripe sends as an id or, when expanded, as the object itself. */
const stripeRef = (prefix: string) =>
  z.union([stripeId(prefix), z.object({ id: stripeId(prefix) })]).nullish();

/** Stripe started in 2010; a day of slack ahead allows for clocks that disagree. */
const EARLIEST_UNIX = Date.UTC(2010, 0, 1) / 1000;
const unixSeconds = (now: Date) =>
  z
    .number()
    .int()
    .min(EARLIEST_UNIX)
    .max(Math.floor(now.getTime() / 1000) + 86_400);

// Loose, so the object keeps the fields a handled type's schema reads next.
const envelopeSchema = (now: Date) =>
  z.object({
    id: stripeId('evt_'),
    type: z.string().max(100).regex(PRINTABLE),
    created: unixSeconds(now),
    data: z.looseObject({ object: z.looseObject({ id: stripeId('') }) }),
  });

const subscriptionDataSchema = z.object({
  object: z.object({
    id: stripeId('sub_'),
    cancel_at_period_end: z.boolean().optional(),
    items: z.object({ data: z.array(z.object({ price: z.object({ id: stripeId('price_') }) })) }).optional(),
  }),
  previous_attributes: z
    .object({
      cancel_at_period_end: z.boolean().optional(),
      items: z
        .object({ data: z.array(z.object({ price: z.object({ id: stripeId('price_') }).optional() })) })
        .optional(),
    })
    .optional(),
});

const checkoutDataSchema = z.object({
  object: z.object({ id: stripeId('cs_'), subscription: stripeRef('sub_') }),
});

/** payments.amount_cents is a 32-bit integer. */
const cents = z.number().int().min(0).max(2_147_483_647);

const invoiceDataSchema = (now: Date) =>
  z.object({
    object: z.object({
      id: stripeId('in_'),
      customer: stripeRef('cus_'),
      currency: z.string().regex(/^[a-z]{3}$/),
      amount_paid: cents,
      amount_due: cents,
      created: unixSeconds(now),
      billing_reason: z.string().max(100).nullish(),
      parent: z
        .object({ subscription_details: z.object({ subscription: stripeRef('sub_') }).nullish() })
        .nullish(),
    }),
  });

export type WebhookSubscriptionData = z.infer<typeof subscriptionDataSchema>;
export type WebhookInvoice = z.infer<ReturnType<typeof invoiceDataSchema>>['object'];

export type WebhookSubject =
  | { kind: 'subscription'; data: WebhookSubscriptionData }
  | { kind: 'checkout'; session: z.infer<typeof checkoutDataSchema>['object'] }
  | { kind: 'invoice'; invoice: WebhookInvoice }
  | { kind: 'unhandled' };

export interface WebhookEvent {
  id: string;
  type: string;
  /** Unix seconds, as Stripe sends them. */
  created: number;
  subject: WebhookSubject;
}

function parseOrRefuse<T>(schema: z.ZodType<T>, value: unknown, at: string[] = []): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Only the path, never the value: it may hold the very bytes that made the event malformed.
  const path = [...at, ...(result.error.issues[0]?.path ?? [])].join('.');
  const detail = path ? `${path} is missing or invalid` : 'not a JSON object';
  throw new AppError('INVALID_WEBHOOK_EVENT', `Malformed Stripe event: ${detail}`);
}

/** The envelope of every event, plus the fields the handler reads for the types it handles. */
export function parseWebhookEvent(payload: unknown, now: Date): WebhookEvent {
  const { data, ...envelope } = parseOrRefuse(envelopeSchema(now), payload);
  const kind = Object.hasOwn(HANDLED_EVENTS, envelope.type)
    ? HANDLED_EVENTS[envelope.type as HandledEvent]
    : 'unhandled';
  return { ...envelope, subject: parseSubject(kind, data, now) };
}

function parseSubject(kind: WebhookSubject['kind'], data: unknown, now: Date): WebhookSubject {
  switch (kind) {
    case 'subscription':
      return { kind, data: parseOrRefuse(subscriptionDataSchema, data, ['data']) };
    case 'checkout':
      return { kind, session: parseOrRefuse(checkoutDataSchema, data, ['data']).object };
    case 'invoice':
      return { kind, invoice: parseOrRefuse(invoiceDataSchema(now), data, ['data']).object };
    case 'unhandled':
      return { kind };
  }
}

/** The Stripe subscription an event is about, if any. */
export function subscriptionIdOf(subject: WebhookSubject): string | null {
  switch (subject.kind) {
    case 'subscription':
      return subject.data.object.id;
    case 'checkout':
      return idOf(subject.session.subscription);
    case 'invoice':
      return idOf(subject.invoice.parent?.subscription_details?.subscription);
    case 'unhandled':
      return null;
  }
}

/** The email an event warrants for the subscriber, if any. */
export function noticeFor({ type, subject }: WebhookEvent): SubscriptionNotice | null {
  if (subject.kind === 'invoice') {
    if (type === 'invoice.payment_failed') return 'payment_failed';
    const reason = type === 'invoice.paid' ? subject.invoice.billing_reason : null;
    return reason === 'subscription_create' ? 'started' : reason === 'subscription_cycle' ? 'renewed' : null;
  }
  if (subject.kind !== 'subscription') return null;
  if (type === 'customer.subscription.deleted') return 'ended';
  if (type !== 'customer.subscription.updated') return null;
  const { object: sub, previous_attributes: previous = {} } = subject.data;
  if (previous.cancel_at_period_end === false && sub.cancel_at_period_end) return 'cancel_scheduled';
  // Items also change at every renewal (their period dates): only a different price is a plan change.
  const before = previous.items?.data[0]?.price?.id;
  return before && before !== sub.items?.data[0]?.price.id ? 'plan_changed' : null;
}
