/**
 * The messaging crash scenario, shared by one test file per transport. Service A appends events
 * (with outbox rows) while a relay child publishes them and a consumer child applies them to
 * service B's database. Both children are SIGKILLed over and over, at precise points (they kill
 * themselves, see messaging-child.ts) and at random moments (the parent), and a supervisor
 * restarts each one whenever it exits. Once every kind of kill happened often enough, the
 * appends stop, the children run without kills until B has caught up, and the invariants are
 * checked: nothing lost, every effect applied once, each stream's order kept.
 */
import { createEventStore, type Store } from '@causeway/core';
import { expect } from 'vitest';
import { registry } from '../event-store-conformance/fixtures.ts';
import { ChildSupervisor } from './child-supervisor.ts';
import { compiledChildScript } from './compiled-child.ts';
import {
  type CrashChildConfig,
  type CrashKillPlan,
  type CrashStoreSpec,
  type CrashTransportSpec,
  type SelfKillKind,
  selfKillKinds,
} from './messaging-crash-config.ts';

const childScript = compiledChildScript(new URL('./messaging-child.ts', import.meta.url));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `external`: the parent's SIGKILL at a random moment, of the relay and the consumer in turn. */
export type KillKind = SelfKillKind | 'external';
export const killKinds: readonly KillKind[] = [...selfKillKinds, 'external'];

export interface MessagingCrashScenario {
  /** For messages: "embedded + SQLite". */
  label: string;
  /** Service A's store (the parent appends to it, the relay publishes its outbox). */
  sourceSpec: CrashStoreSpec;
  /** Service B's store (the consumer's inbox, read model and own outbox). */
  sinkSpec: CrashStoreSpec;
  openStore(spec: CrashStoreSpec): Promise<Store>;
  transport: CrashTransportSpec;
  destination: string;
  group: string;
  /** The relay reads A's outbox from this replication slot instead of polling it (PostgreSQL). */
  walRelaySlot?: string;
  /** Each kill kind must happen at least this often (default 10). */
  minKillsPerKind?: number;
  /** The kill phase fails if the quotas are not reached by then (default 120 s). */
  killPhaseTimeoutMs?: number;
  /** How long B may take to catch up once the kills stopped (default 60 s). */
  settleTimeoutMs?: number;
}

export interface MessagingCrashResult {
  kills: Record<KillKind, number>;
  externalKills: { relay: number; consumer: number };
  /** Consumer self-kills with more than one delivery in flight (the others die with it). */
  consumerKillsMidBatch: number;
  appended: number;
  killPhaseMs: number;
  settleMs: number;
  /** When each kind reached its quota, from the start of the kill phase. */
  quotaMetAtMs: Partial<Record<KillKind, number>>;
  medianStartupMs: { relay: number; consumer: number };
  sparesNotLoaded: { relay: number; consumer: number };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

interface AppliedRow {
  stream_id: string;
  count: number;
  last_position: number;
  out_of_order: number;
}

async function readApplied(sink: Store): Promise<AppliedRow[]> {
  return sink
    .transaction((tx) =>
      tx.query<AppliedRow>(
        'SELECT stream_id, count, last_position, out_of_order FROM applied ORDER BY stream_id',
      ),
    )
    .catch(() => []); // the consumer has not created the table yet
}

export async function runMessagingCrashScenario(
  scenario: MessagingCrashScenario,
): Promise<MessagingCrashResult> {
  const minKills = scenario.minKillsPerKind ?? 10;
  const streams = Array.from({ length: 12 }, (_, i) => `acct-${String(i).padStart(2, '0')}`);
  const appended = new Map(streams.map((stream) => [stream, 0]));
  const kills = Object.fromEntries(killKinds.map((kind) => [kind, 0])) as Record<KillKind, number>;
  let consumerKillsMidBatch = 0;
  const killPhaseStarted = Date.now();
  let killing = true;
  const quotaMet = (kind: KillKind) => kills[kind] >= minKills;
  const probability = (kind: SelfKillKind, p: number) => (killing && !quotaMet(kind) ? p : 0);

  const configFor = (role: 'relay' | 'consumer'): CrashChildConfig => {
    const kill: CrashKillPlan = {
      afterPublish: probability('relay-after-publish', 0.45),
      midBatch: probability('relay-mid-batch', 0.45),
      beforeAck: probability('consumer-before-ack', 0.12),
    };
    return {
      role,
      store: role === 'relay' ? scenario.sourceSpec : scenario.sinkSpec,
      transport: scenario.transport,
      destination: scenario.destination,
      group: scenario.group,
      replyDestination: `${scenario.group}_replies`,
      kill,
      // A short lease: the next incarnation takes over a dead relay's batch quickly.
      relay: {
        batchSize: 20,
        leaseMs: 400,
        idlePollMs: 20,
        ...(scenario.walRelaySlot ? { wal: { slot: scenario.walRelaySlot } } : {}),
      },
      // Several deliveries in flight when the consumer dies; redelivered after ackTimeoutMs.
      consumer: { maxInFlight: 8, ackTimeoutMs: 1000 },
    };
  };
  const quotaMetAtMs: Partial<Record<KillKind, number>> = {};
  const externalKills = { relay: 0, consumer: 0 };
  const onKill = (kind: KillKind, detail: string) => {
    kills[kind]++;
    if (kind === 'external') externalKills[detail as 'relay' | 'consumer']++;
    if (kills[kind] === minKills) quotaMetAtMs[kind] = Date.now() - killPhaseStarted;
    const inFlight = /inFlight=(\d+)/.exec(detail);
    if (kind === 'consumer-before-ack' && inFlight && Number(inFlight[1]) > 1) consumerKillsMidBatch++;
  };

  const source = await scenario.openStore(scenario.sourceSpec);
  const sink = await scenario.openStore(scenario.sinkSpec);
  const eventStore = createEventStore({ store: source, registry });
  const supervise = (role: 'relay' | 'consumer') =>
    new ChildSupervisor(
      role,
      childScript,
      () => configFor(role),
      (kind, detail) => onKill(kind as KillKind, detail),
    );
  const relay = supervise('relay');
  const consumer = supervise('consumer');
  const children = { relay, consumer };
  let killPhaseMs = 0;
  let settleMs = 0;
  try {
    relay.start();
    consumer.start();

    // Random kills from outside of a started child, the one killed less so far first.
    const killer = (async () => {
      while (killing && !quotaMet('external')) {
        await pause(150 + Math.random() * 450);
        const ready = (['relay', 'consumer'] as const).filter((role) => children[role].isReady);
        ready.sort((x, y) => externalKills[x] - externalKills[y] || Math.random() - 0.5);
        if (killing && ready[0]) children[ready[0]].kill();
      }
    })();

    // Appends while the kills go on; paused while B lags far behind, so that it can catch up.
    // Generous: a loaded CI machine restarts children slowly, and the quotas need restarts.
    const deadline = killPhaseStarted + (scenario.killPhaseTimeoutMs ?? 240_000);
    while (!killKinds.every(quotaMet) && Date.now() < deadline) {
      const total = [...appended.values()].reduce((sum, n) => sum + n, 0);
      const applied = (await readApplied(sink)).reduce((sum, row) => sum + row.count, 0);
      if (total - applied < 300) {
        for (const stream of streams) {
          await eventStore.appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents: 1 } }], {
            publishTo: scenario.destination,
          });
          appended.set(stream, (appended.get(stream) ?? 0) + 1);
        }
      }
      await pause(50);
    }
    killing = false;
    relay.refreshSpare();
    consumer.refreshSpare();
    await killer;
    killPhaseMs = Date.now() - killPhaseStarted;
    expect(
      killKinds.filter((kind) => !quotaMet(kind)),
      `${scenario.label}: kinds of kill not seen ${minKills} times in the kill phase (${JSON.stringify(kills)})`,
    ).toEqual([]);

    // Children started from now on never kill themselves; the running ones may once more.
    const settleStarted = Date.now();
    const settleDeadline = settleStarted + (scenario.settleTimeoutMs ?? 60_000);
    let applied: AppliedRow[] = [];
    let backlog = -1;
    while (Date.now() < settleDeadline) {
      applied = await readApplied(sink);
      backlog = (await source.outbox.backlog()).count;
      const caughtUp =
        applied.length === streams.length &&
        applied.every((row) => row.last_position === appended.get(row.stream_id));
      if (caughtUp && backlog === 0) break;
      await pause(200);
    }
    settleMs = Date.now() - settleStarted;
    await Promise.all([relay.stop(), consumer.stop()]);

    const total = [...appended.values()].reduce((sum, n) => sum + n, 0);
    expect(
      [...relay.unexpectedExits, ...consumer.unexpectedExits],
      'children that died of themselves',
    ).toEqual([]);
    // A crash is never the message's fault: nothing may end in the dead letters (and park its key).
    expect(
      (await sink.deadLetters.list({ limit: 5 })).map(({ orderingKey, reason }) => ({ orderingKey, reason })),
      'dead letters in the sink',
    ).toEqual([]);
    expect(
      applied.map((row) => [row.stream_id, row.count, row.last_position, row.out_of_order]),
      // The backlog tells a stalled relay (rows left in A's outbox) from a stalled consumer.
      `${scenario.label}: per stream [id, applied count, last position, out of order]; source outbox backlog ${backlog}`,
    ).toEqual(streams.map((stream) => [stream, appended.get(stream), appended.get(stream), 0]));
    expect(backlog, 'source outbox backlog').toBe(0);
    // The handler's outbox rows commit with its receipt: exactly one per event (none relayed).
    expect((await sink.outbox.backlog()).count, "handler's outbox rows").toBe(total);
    return {
      kills,
      externalKills,
      consumerKillsMidBatch,
      appended: total,
      killPhaseMs,
      settleMs,
      quotaMetAtMs,
      medianStartupMs: { relay: median(relay.startupMs), consumer: median(consumer.startupMs) },
      sparesNotLoaded: { relay: relay.promotedBeforeLoaded, consumer: consumer.promotedBeforeLoaded },
    };
  } finally {
    killing = false;
    await Promise.all([relay.stop(), consumer.stop()]);
    await sink.close();
    await source.close();
  }
}
