/**
 * Another shop service's event log as the query projection reads it for rebuilds and lag: its
 * `/admin/events` pages (gap-safe on PostgreSQL) and `/admin/events/stats`.
 */
import type { Message, SourceHistory } from '@causeway/core';
import type { ServiceClient } from '../../platform/service-client.ts';

export function serviceHistory(call: ServiceClient, service: string): SourceHistory {
  async function ask<T>(path: string, timeoutMs: number): Promise<T> {
    const answer = await call(service, 'GET', path, { timeoutMs });
    if (answer.status !== 200) {
      throw new Error(
        `${service} answered ${answer.status} to ${path}: ${JSON.stringify(answer.body).slice(0, 200)}`,
      );
    }
    return answer.body as T;
  }
  return {
    async read(from, limit) {
      const query = from.cursor ? `cursor=${encodeURIComponent(from.cursor)}` : `after=${from.after}`;
      const page = await ask<{ items: Message[]; cursor: string; position: number }>(
        `/admin/events?${query}&limit=${Math.min(limit, 1000)}&data=1`,
        10_000,
      );
      return { events: page.items, cursor: page.cursor, position: page.position };
    },
    async stats(after) {
      const stats = await ask<{ head: number; count: number; firstAfter: { occurredAt: string } | null }>(
        `/admin/events/stats?after=${after}`,
        1_500,
      );
      return { head: stats.head, count: stats.count, firstAfterAt: stats.firstAfter?.occurredAt ?? null };
    },
  };
}
