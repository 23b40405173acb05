import type { Message } from '../message/index.ts';
import type { Store, Transaction } from '../store/index.ts';
import { inSpan, linkTo, spanAttributes } from '../tracing/index.ts';
import type { Projection } from './projection.ts';
import { applyEvents } from './read-model.ts';
import { SubscribedProgress } from './subscribed-progress.ts';
import type { DocumentCache } from './write-buffer.ts';

/** An event and where it came from: the own log (positioned by the checkpoint) or a subscription. */
export interface SourcedEvent {
  source: string;
  subscribed: boolean;
  event: Message;
}

/**
 * Applies events of any sources to one generation, in `tx`, in the given order. A subscribed
 * event whose stream already applied its version is left out (a redelivery, or a replay that
 * overlapped live delivery); own-log events are positioned by the checkpoint saved beside.
 * Answers the events applied.
 */
export async function applySourcedEvents(options: {
  store: Store;
  projection: Projection;
  tx: Transaction;
  generation: number;
  events: readonly SourcedEvent[];
  knownDocuments?: DocumentCache | null;
}): Promise<Message[]> {
  return inSpan(
    `projection ${options.projection.name}`,
    () => ({
      attributes: {
        [spanAttributes.projection]: options.projection.name,
        'causeway.projection.generation': options.generation,
        [spanAttributes.batchCount]: options.events.length,
      },
      // The batch's events come from many flows: it names (a bounded number of) them by links.
      links: options.events
        .slice(0, maxLinks)
        .map(({ event }) => linkTo(event))
        .filter((link) => link !== null),
    }),
    () => applyInOrder(options),
  );
}

const maxLinks = 32;

async function applyInOrder(options: Parameters<typeof applySourcedEvents>[0]): Promise<Message[]> {
  const { store, projection, tx, generation } = options;
  const progress = new SubscribedProgress(store, tx, projection.name, generation);
  const toApply: Message[] = [];
  for (const { source, subscribed, event } of options.events) {
    if (!subscribed) {
      toApply.push(event);
      continue;
    }
    if (!(await progress.isNew(event))) continue;
    toApply.push(event);
    await progress.markApplied(source, event);
  }
  if (toApply.length > 0)
    await applyEvents(store, projection, tx, generation, toApply, options.knownDocuments ?? null);
  await progress.flush();
  return toApply;
}
