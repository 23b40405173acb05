import pg from 'pg';
import { clientOptions } from './postgres-connection.ts';

/** Wakes subscribers on NOTIFY from any process, and on local commits without the round trip. */
export interface PostgresChangeListener {
  subscribe(listener: () => void, options?: { only?: 'outbox' }): () => void;
  /** Called after a local commit that wrote events or outbox rows. */
  /** `outbox`: the commit left outbox rows to claim; `events`: it did not. */
  notifyLocal(kind: 'events' | 'outbox'): void;
  close(): Promise<void>;
}

const maxReconnectDelayMs = 5_000;

/**
 * LISTENs on the schema's channel over one dedicated connection, opened on the first subscriber
 * and reopened (with backoff) if it drops. After each (re)connect subscribers are woken once,
 * since notifications sent while disconnected are lost. A notification this store announced
 * itself is skipped: its commits woke the subscribers already, and a second wake only costs each
 * of them a query that finds nothing (measured in the saga bench: the relay's claims fell from 2.6 to 1.1 a message).
 */
export function createPostgresChangeListener(options: {
  connectionString: string;
  schema: string;
  channel: string;
  /** This store's NOTIFY payload. */
  storeId: string;
}): PostgresChangeListener {
  const listeners = new Set<() => void>();
  /** The listeners that asked to hear of outbox rows only (a NOTIFY from elsewhere wakes them all). */
  const outboxOnly = new Set<() => void>();
  let client: pg.Client | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let reconnectDelayMs = 100;
  let closed = false;

  const wake = (kind: 'events' | 'outbox' = 'outbox') => {
    for (const listener of [...listeners]) {
      if (kind === 'events' && outboxOnly.has(listener)) continue;
      try {
        listener();
      } catch (error) {
        console.error('causeway: a change listener failed', error);
      }
    }
  };

  const scheduleReconnect = () => {
    if (closed || listeners.size === 0 || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void connect();
    }, reconnectDelayMs);
    reconnectDelayMs = Math.min(reconnectDelayMs * 2, maxReconnectDelayMs);
  };

  const connect = async () => {
    if (closed || client || listeners.size === 0) return;
    const candidate = new pg.Client(clientOptions(options.connectionString, options.schema));
    client = candidate;
    const drop = () => {
      if (client !== candidate) return;
      client = null;
      candidate.end().catch(() => {});
      scheduleReconnect();
    };
    candidate.on('error', drop);
    candidate.on('end', drop);
    candidate.on('notification', (notification) => {
      if (notification.payload !== options.storeId) wake('outbox');
    });
    try {
      await candidate.connect();
      await candidate.query(`LISTEN "${options.channel}"`);
      reconnectDelayMs = 100;
      wake('outbox');
    } catch {
      drop();
    }
  };

  const disconnect = async () => {
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    const current = client;
    client = null;
    await current?.end().catch(() => {});
  };

  return {
    subscribe(listener, subscribeOptions) {
      listeners.add(listener);
      if (subscribeOptions?.only === 'outbox') outboxOnly.add(listener);
      void connect();
      return () => {
        listeners.delete(listener);
        outboxOnly.delete(listener);
        if (listeners.size === 0) void disconnect();
      };
    },
    notifyLocal: (kind) => wake(kind),
    async close() {
      closed = true;
      listeners.clear();
      outboxOnly.clear();
      await disconnect();
    },
  };
}
