import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteTopology } from '@causeway/rabbitmq';
import { createSqliteStore } from '@causeway/sqlite';
import { connect } from 'amqplib';
import { afterAll, expect, it } from 'vitest';
import { describeWithService, serviceUrl } from '../services.ts';
import type { CrashStoreSpec } from './messaging-crash-config.ts';
import { runMessagingCrashScenario } from './messaging-crash-scenario.ts';

const destination = 'a_events';
const group = 'b';
// Few partitions: each is a quorum queue, and each declared queue slows the shared broker.
const names = { prefix: `cwcrash-${randomBytes(4).toString('hex')}`, partitions: 4 };
const topology = { [destination]: [group] };

describeWithService('rabbitmq', 'messaging crash: RabbitMQ', () => {
  const url = serviceUrl('rabbitmq');
  const directory = mkdtempSync(join(tmpdir(), 'causeway-messaging-crash-rabbitmq-'));
  afterAll(async () => {
    rmSync(directory, { recursive: true, force: true });
    const connection = await connect(url);
    try {
      await deleteTopology(await connection.createChannel(), names, topology);
    } finally {
      await connection.close();
    }
  }, 60_000);

  it('with SQLite stores: SIGKILL of relay (after publish, mid-batch) and consumer (before ack, mid-batch) and at random, many times: nothing lost, every effect once, each stream in order', async () => {
    const result = await runMessagingCrashScenario({
      label: 'RabbitMQ + SQLite',
      sourceSpec: { kind: 'sqlite', filename: join(directory, 'a.db') },
      sinkSpec: { kind: 'sqlite', filename: join(directory, 'b.db') },
      openStore: (spec: CrashStoreSpec) => {
        if (spec.kind !== 'sqlite') throw new Error('SQLite stores only');
        return createSqliteStore({ filename: spec.filename });
      },
      transport: { kind: 'rabbitmq', url, ...names, topology },
      destination,
      group,
    });
    console.info('[messaging crash, RabbitMQ + SQLite]', JSON.stringify(result));
    expect(result.consumerKillsMidBatch).toBeGreaterThan(0);
  }, 360_000);
});
