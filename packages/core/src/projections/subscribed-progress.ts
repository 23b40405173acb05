import type { Message } from '../message/index.ts';
import type { Store, Transaction } from '../store/index.ts';
import { physicalCollection } from './read-model.ts';

/** How far one subscription source is applied in a generation of a projection. */
export interface SourceProgress {
  /** Highest position of the source's log applied (events arrive in order per stream only). */
  position: number;
  /** Events of the source applied in this generation. */
  applied: number;
  lastAppliedAt: string | null;
}

// '$' cannot appear in a declared collection name, so these never meet a projection's own.
const streamsOf = (projection: string, generation: number) =>
  physicalCollection(projection, '$streams', generation);
const sourcesOf = (projection: string, generation: number) =>
  physicalCollection(projection, '$sources', generation);

export const progressCollections = (projection: string, generation: number) => [
  streamsOf(projection, generation),
  sourcesOf(projection, generation),
];

/**
 * The version applied per stream and the progress per source of subscribed events, for one
 * generation, read and written in the transaction that applies the events. It is what makes a
 * subscribed event apply once: a redelivery, or a replay overlapping live delivery, finds its
 * stream already at that version.
 */
export class SubscribedProgress {
  private readonly versions = new Map<string, number>();
  private readonly sources = new Map<string, SourceProgress>();
  private readonly dirtyStreams = new Set<string>();
  private readonly dirtySources = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly projection: string,
    private readonly generation: number,
  ) {}

  async appliedVersion(streamId: string): Promise<number> {
    const known = this.versions.get(streamId);
    if (known !== undefined) return known;
    const document = await this.store.documents.get<{ version: number }>(
      this.tx,
      streamsOf(this.projection, this.generation),
      streamId,
    );
    const version = document?.version ?? 0;
    this.versions.set(streamId, version);
    return version;
  }

  /** True when `event` is past what its stream has applied: apply it, then call `markApplied`. */
  async isNew(event: Message): Promise<boolean> {
    if (!hasStreamPosition(event)) return true;
    return event.streamPosition > (await this.appliedVersion(event.streamId));
  }

  async markApplied(source: string, event: Message): Promise<void> {
    if (hasStreamPosition(event)) {
      this.versions.set(event.streamId, event.streamPosition);
      this.dirtyStreams.add(event.streamId);
    }
    const progress = await this.sourceProgress(source);
    this.sources.set(source, {
      position: Math.max(progress.position, event.globalPosition ?? 0),
      applied: progress.applied + 1,
      lastAppliedAt: new Date().toISOString(),
    });
    this.dirtySources.add(source);
  }

  /** Writes what this batch changed; call once, before the transaction commits. */
  async flush(): Promise<void> {
    const streams = [...this.dirtyStreams].map((id) => ({
      id,
      document: { version: this.versions.get(id) },
    }));
    const sources = [...this.dirtySources].map((id) => ({ id, document: this.sources.get(id) }));
    if (streams.length > 0)
      await this.store.documents.putMany(this.tx, streamsOf(this.projection, this.generation), streams);
    if (sources.length > 0)
      await this.store.documents.putMany(this.tx, sourcesOf(this.projection, this.generation), sources);
    this.dirtyStreams.clear();
    this.dirtySources.clear();
  }

  private async sourceProgress(source: string): Promise<SourceProgress> {
    const known = this.sources.get(source);
    if (known) return known;
    const stored = await this.store.documents.get<SourceProgress>(
      this.tx,
      sourcesOf(this.projection, this.generation),
      source,
    );
    const progress = stored ?? { position: 0, applied: 0, lastAppliedAt: null };
    this.sources.set(source, progress);
    return progress;
  }
}

/** The version `streamId` has applied in the generation; 0 when none. */
export async function readAppliedVersion(
  store: Store,
  projection: string,
  generation: number,
  streamId: string,
): Promise<number> {
  const document = await store.documents.get<{ version: number }>(
    null,
    streamsOf(projection, generation),
    streamId,
  );
  return document?.version ?? 0;
}

export async function readSourceProgress(
  store: Store,
  projection: string,
  generation: number,
  source: string,
): Promise<SourceProgress> {
  const stored = await store.documents.get<SourceProgress>(null, sourcesOf(projection, generation), source);
  return stored ?? { position: 0, applied: 0, lastAppliedAt: null };
}

function hasStreamPosition(event: Message): boolean {
  return Number.isInteger(event.streamPosition) && event.streamPosition > 0;
}
