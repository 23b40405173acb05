/** Where the analytics service takes changes from. */

/** The services whose changes analytics takes in. */
export const analyticsSources = ['users', 'catalog', 'inventory', 'orders', 'payments', 'shipping'] as const;

/**
 * The slot of a generation in a service database (slots are per server, so the name carries the
 * database): lower case letters, digits and underscores, at most 63 of them.
 */
export function analyticsSlotFor(database: string, generation: number): string {
  const suffix = generation === 1 ? '_analytics' : `_analytics_g${generation}`;
  return `${database
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63 - suffix.length)}${suffix}`;
}
