// Stripe sends a related object either as its id or, when expanded, as the object itself.

export function idOf(value: string | { id: string } | null | undefined): string | null {
  return typeof value === 'string' ? value : (value?.id ?? null);
}
