/**
 * What a JetStream publish ack promises, and how we check it.
 *
 * A JetStream server acks a publish once the message is in its file store's write buffer and,
 * for a replicated stream, once a majority of replicas has it: the ack does not wait for
 * fsync. By default the file store fsyncs every `sync_interval` = 2 minutes, so on a single
 * server (or R1/R2) a power loss or kernel crash can lose messages that were acked in the last
 * two minutes; Jepsen's NATS 2.12.1 analysis (2025) lost acked writes exactly this way. A process
 * crash of nats-server alone loses nothing (the OS still holds its buffers).
 *
 * An ack is durable when either holds:
 * - the server config's jetstream block sets `sync_interval: always` (NATS >= 2.10; older servers
 *   have no such setting and always fsync on the 2-minute timer): every write is fsynced before
 *   the ack, at the cost of throughput; or
 * - the stream has `replicas >= 3` on a cluster whose servers fail independently: a majority
 *   holds the message (in memory, possibly not yet on disk) before the ack, so losing one machine
 *   loses nothing. A correlated power loss of the whole cluster still needs `sync_interval: always`.
 *
 * Acks of deliveries are weaker still: the server persists a consumer's ack state lazily, so a
 * killed nats-server (SIGKILL, no power loss needed) forgets the last seconds of acks and
 * redelivers those messages after it restarts (nats-restart.int.test.ts shows it). That is
 * at-least-once, not loss: the consumer's inbox turns the repeats into no-ops.
 *
 * A production user must set `sync_interval: always` on a single server, or run a 3-node cluster
 * with `replicas: 3` (ideally both). The setting is only visible in the monitoring endpoint's
 * `/varz` (`jetstream.config.sync_always`), not over the client protocol, so we can check it only
 * when given `monitorUrl`; the server version is always known from the connection.
 */
export interface AckDurabilityFacts {
  serverVersion: string | undefined;
  replicas: number;
  /** `/varz` of the monitoring endpoint, when it was fetched. */
  varz?: unknown;
}

/** A warning when the facts show that an acked message can be lost on power loss, else undefined. */
export function describeAckDurability(facts: AckDurabilityFacts): string | undefined {
  if (facts.replicas >= 3) return undefined;
  const risk = `NATS JetStream acks are not fsynced (replicas ${facts.replicas}): acknowledged messages can be lost on power loss`;
  if (facts.serverVersion !== undefined && isOlderThan(facts.serverVersion, [2, 10])) {
    return `${risk}; nats-server ${facts.serverVersion} cannot fsync before acking (sync_interval needs 2.10 or later): upgrade and set sync_interval: always, or use replicas >= 3 on a cluster`;
  }
  if (facts.varz === undefined) return undefined;
  if (readSyncAlways(facts.varz) === true) return undefined;
  return `${risk}; set sync_interval: always in the server's jetstream block, or use replicas >= 3 on a cluster`;
}

/** `/varz` from a monitoring URL such as http://127.0.0.1:8222, or undefined when unreachable. */
export async function fetchVarz(monitorUrl: string, timeoutMs = 2000): Promise<unknown> {
  try {
    const response = await fetch(new URL('/varz', monitorUrl), { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

function readSyncAlways(varz: unknown): boolean | undefined {
  const config = (varz as { jetstream?: { config?: { sync_always?: unknown } } } | null)?.jetstream?.config;
  return typeof config?.sync_always === 'boolean' ? config.sync_always : undefined;
}

function isOlderThan(version: string, [major, minor]: [number, number]): boolean {
  const [actualMajor = 0, actualMinor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return actualMajor < major || (actualMajor === major && actualMinor < minor);
}
