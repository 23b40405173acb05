/**
 * Retention in every shop service: a timer deletes inbox receipts and published outbox rows older
 * than the shop's settings (SHOP_RETENTION_INTERVAL_MS, SHOP_INBOX_RETENTION_MS,
 * SHOP_OUTBOX_RETENTION_MS), so neither table grows without bound. Unpublished outbox rows are
 * never deleted (see core's applyRetention).
 */
import {
  createRetentionSchedule,
  type RetentionPass,
  type RetentionSchedule,
  type Store,
} from '@causeway/core';
import { longestRedeliveryMs, type ShopConfig, settingLabel } from '../config.ts';
import { log } from './log.ts';

/** The service's retention schedule, not started; null when SHOP_RETENTION_INTERVAL_MS is 0. */
export function createServiceRetention(config: ShopConfig, store: Store): RetentionSchedule | null {
  if (config.retentionIntervalMs === 0) return null;
  warnIfShorterThanRedelivery(config);
  return createRetentionSchedule({
    store,
    intervalMs: config.retentionIntervalMs,
    policy: { inboxMs: config.inboxRetentionMs, publishedOutboxMs: config.publishedOutboxRetentionMs },
    // Only a pass that removed something is worth a line: a quiet shop logs nothing.
    onPass: (pass) => {
      if (pass.inboxPruned + pass.outboxPruned > 0) log.info(`retention: ${describePass(pass, config)}`);
    },
    onError: (error) =>
      log.warn(`retention pass failed (next in ${config.retentionIntervalMs} ms): ${String(error)}`),
  });
}

export function describePass(pass: RetentionPass, config: ShopConfig): string {
  return (
    `removed ${pass.inboxPruned} inbox receipts older than ${config.inboxRetentionMs} ms and ` +
    `${pass.outboxPruned} published outbox rows older than ${config.publishedOutboxRetentionMs} ms`
  );
}

/** A receipt pruned before the transport's last possible redelivery lets a duplicate through: say so at start. */
function warnIfShorterThanRedelivery(config: ShopConfig): void {
  const window = longestRedeliveryMs(config);
  if (window === null || config.inboxRetentionMs >= window) return;
  log.warn(
    `${settingLabel('inboxRetentionMs')} is ${config.inboxRetentionMs} ms, but the ${config.transport} ` +
      `transport may redeliver a message up to ${window} ms after it was published: a message redelivered ` +
      'after its receipt was deleted is handled twice',
  );
}
