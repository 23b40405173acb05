import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '@causeway/sqlite';
import { afterAll, expect, it } from 'vitest';
import type { CrashStoreSpec } from './messaging-crash-config.ts';
import { runMessagingCrashScenario } from './messaging-crash-scenario.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-messaging-crash-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

it('embedded transport + SQLite: SIGKILL of relay (after publish, mid-batch) and consumer (before ack, mid-batch) and at random, many times: nothing lost, every effect once, each stream in order', async () => {
  const result = await runMessagingCrashScenario({
    label: 'embedded + SQLite',
    sourceSpec: { kind: 'sqlite', filename: join(directory, 'a.db') },
    sinkSpec: { kind: 'sqlite', filename: join(directory, 'b.db') },
    openStore: (spec: CrashStoreSpec) => {
      if (spec.kind !== 'sqlite') throw new Error('SQLite stores only');
      return createSqliteStore({ filename: spec.filename });
    },
    transport: { kind: 'embedded', filename: join(directory, 'transport.db') },
    destination: 'a_events',
    group: 'b',
  });
  console.info('[messaging crash, embedded + SQLite]', JSON.stringify(result));
  expect(result.consumerKillsMidBatch).toBeGreaterThan(0);
}, 360_000);
