/**
 * How fresh a read must be, named once by the reader and honoured by stores with replicas and by
 * read models alike: `strong` sees every write committed before it (the primary), `session` sees
 * the writes its token names (a replica that has replayed them, else the primary), `eventual` may
 * be behind (any replica).
 */
import { sessionPositionOf } from '../consistency/index.ts';
import { InvalidArgumentError } from '../errors/index.ts';
import type { Store } from './store.ts';

export type ReadConsistency = 'strong' | 'session' | 'eventual';

export interface ReadConsistencyOptions {
  consistency: ReadConsistency;
  /** For `session`: the consistency token of the reader's writes. Without one there is nothing to wait for. */
  token?: string;
}

/** The read side of a store, on the primary or on one of its replicas. */
export interface StoreReads
  extends Pick<Store, 'events' | 'documents' | 'snapshots' | 'checkpoints' | 'sagas' | 'deadLetters'> {
  /** Where the reads run: `primary`, or the replica's name. */
  readonly from: string;
  /** A transaction for reads (read-only on a replica). */
  transaction: Store['transaction'];
}

const consistencies: readonly ReadConsistency[] = ['strong', 'session', 'eventual'];

/** Checks the options; answers the primary log position a session read must find replayed, if any. */
export function sessionTargetOf(options: ReadConsistencyOptions): bigint | undefined {
  if (!consistencies.includes(options?.consistency)) {
    throw new InvalidArgumentError(
      'consistency',
      `Read consistency must be 'strong', 'session' or 'eventual', got ${JSON.stringify(options?.consistency)}`,
    );
  }
  if (options.consistency !== 'session' || options.token === undefined) return undefined;
  return sessionPositionOf(options.token);
}

/** The reads of a store without replicas: everything runs on the store itself. */
export function primaryReads(store: Omit<Store, 'read'>): StoreReads {
  return {
    from: 'primary',
    transaction: (work) => store.transaction(work),
    events: store.events,
    documents: store.documents,
    snapshots: store.snapshots,
    checkpoints: store.checkpoints,
    sagas: store.sagas,
    deadLetters: store.deadLetters,
  };
}
