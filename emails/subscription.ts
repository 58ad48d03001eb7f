// Subscription lifecycle notices: started, renewed, plan changed, cancellation scheduled, ended, payment
// failed, and a refused subscription (a second one, or one for a closed account) cancelled and refunded.
import { type EmailContext, layout, paragraph, type RenderedEmail } from './layout';

export type SubscriptionNotice =
  | 'started'
  | 'renewed'
  | 'plan_changed'
  | 'cancel_scheduled'
  | 'ended'
  | 'payment_failed'
  | 'duplicate_refunded'
  | 'closed_refunded';

export interface SubscriptionProps {
  kind: SubscriptionNotice;
  username: string;
  planName: string;
  /** ISO date of the end of the paid period, when it matters to the notice. */
  periodEnd: string | null;
  /** What was refunded, for `duplicate_refunded`. */
  refund?: { amountCents: number; currency: string } | undefined;
}

const money = (refund: SubscriptionProps['refund']) =>
  refund ? `${(refund.amountCents / 100).toFixed(2)} ${refund.currency.toUpperCase()}` : 'the payment';

const day = (iso: string | null) =>
  iso ? new Date(iso).toISOString().slice(0, 10) : 'the end of the period';

function copy(
  ctx: EmailContext,
  p: SubscriptionProps,
): { subject: string; heading: string; lines: string[] } {
  switch (p.kind) {
    case 'started':
      return {
        subject: `Your ${p.planName} subscription has started`,
        heading: 'Welcome aboard',
        lines: [
          `Your ${p.planName} subscription to ${ctx.appName} is active. It renews on ${day(p.periodEnd)}.`,
        ],
      };
    case 'renewed':
      return {
        subject: `Your ${p.planName} subscription was renewed`,
        heading: 'Subscription renewed',
        lines: [
          `Thanks! Your ${p.planName} subscription was renewed and now runs until ${day(p.periodEnd)}.`,
        ],
      };
    case 'plan_changed':
      return {
        subject: `You are now on ${p.planName}`,
        heading: 'Plan changed',
        lines: [
          `Your subscription now uses the ${p.planName} plan. The difference is prorated on your next invoice.`,
        ],
      };
    case 'cancel_scheduled':
      return {
        subject: `Your ${p.planName} subscription will end on ${day(p.periodEnd)}`,
        heading: 'Cancellation scheduled',
        lines: [
          `Your ${p.planName} subscription will not renew. You keep access until ${day(p.periodEnd)}.`,
          'Changed your mind? You can resume it any time before then.',
        ],
      };
    case 'ended':
      return {
        subject: `Your ${p.planName} subscription has ended`,
        heading: 'Subscription ended',
        lines: [`Your ${p.planName} subscription has ended. You can subscribe again whenever you like.`],
      };
    case 'payment_failed':
      return {
        subject: `Payment for ${p.planName} failed`,
        heading: 'Payment failed',
        lines: [
          `We could not collect the payment for your ${p.planName} subscription.`,
          'Please update your payment method in the billing portal; we will retry automatically.',
        ],
      };
    case 'duplicate_refunded':
      return {
        subject: `A second ${p.planName} subscription was refunded`,
        heading: 'Duplicate payment refunded',
        lines: [
          `You paid for a second subscription (${p.planName}) while you already had one. We cancelled it and refunded ${money(p.refund)}.`,
          'Your other subscription is unchanged.',
        ],
      };
    case 'closed_refunded':
      return {
        subject: `Your ${p.planName} payment was refunded`,
        heading: 'Payment refunded',
        lines: [
          `Your ${ctx.appName} account is closed, so the ${p.planName} subscription paid for while it was closing was cancelled and ${money(p.refund)} refunded.`,
        ],
      };
  }
}

export function subscriptionNotice(ctx: EmailContext, props: SubscriptionProps): RenderedEmail {
  const { subject, heading, lines } = copy(ctx, props);
  const all = [`Hi ${props.username},`, ...lines];
  return {
    subject,
    html: layout(ctx, { heading, body: all.map(paragraph).join('\n') }),
    text: `${all.join('\n\n')}\n\n${ctx.appName}`,
  };
}
