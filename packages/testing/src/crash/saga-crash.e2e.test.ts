/**
 * Sagas under SIGKILL on SQLite files joined by the embedded transport: the scenario of
 * saga-crash-scenario.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, it } from 'vitest';
import { runSagaCrashScenario } from './saga-crash-scenario.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-saga-crash-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

it('sagas under SIGKILL of the orchestrator (between steps, during compensation) and of participants (mid-command, before ack), and at random, on SQLite + embedded: every saga ends completed or compensated, every effect applied once', async () => {
  await runSagaCrashScenario({
    label: 'embedded + SQLite',
    storeOf: (role) => ({ kind: 'sqlite', filename: join(directory, `${role}.db`) }),
    transport: { kind: 'embedded', filename: join(directory, 'transport.db'), pollIntervalMs: 10 },
  });
}, 480_000);
