/**
 * The shipped alerting rules and the metrics themselves, judged by Prometheus's own tool: the rules
 * parse, their unit tests pass (each alert fires once its condition held for its `for`, not
 * before), and the text our metrics serve passes `promtool check metrics` (names, units, help).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createOutboxRelay } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { describeRequiring } from '@causeway/testing';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { registerCausewayMetrics, timeDeliveries } from './index.ts';

const run = promisify(execFile);
const promtool = process.env.PROMTOOL_PATH || '/usr/bin/promtool';
const rules = fileURLToPath(new URL('../rules/', import.meta.url));

describeRequiring(
  "the alerting rules and the metrics, by Prometheus's promtool",
  existsSync(promtool)
    ? null
    : `promtool not found at ${promtool}; install it with \`apt-get install -y prometheus\``,
  () => {
    it('checks the rules and runs their unit tests', async () => {
      const checked = await run(promtool, ['check', 'rules', join(rules, 'causeway-alerts.yml')]);
      expect(checked.stdout).toContain('SUCCESS: 5 rules found');
      const tested = await run(promtool, ['test', 'rules', join(rules, 'causeway-alerts.test.yml')]);
      expect(tested.stdout).toContain('SUCCESS');
    });

    it('finds nothing to say about the metrics a service serves', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'causeway-promtool-'));
      const store = await createSqliteStore({ filename: join(directory, 'service.db') });
      const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db') });
      try {
        // Ours only: prom-client's process defaults have three gauges promtool faults for `_total`.
        const registry = new Registry();
        const relay = createOutboxRelay({ store, transport });
        registerCausewayMetrics({ registry, store, relay, transport });
        timeDeliveries(transport, { registry });
        // A subscribed group, so that the consumer lag gauge has a series to check.
        await transport.subscribe({ group: 'payments', destinations: ['payments.commands'] }, (delivery) =>
          delivery.ack(),
        );
        const text = await registry.metrics();
        const lint = promisify((callback: (error: Error | null, output: string) => void) => {
          const child = execFile(promtool, ['check', 'metrics'], (error, stdout, stderr) =>
            callback(error, `${stdout}${stderr}`),
          );
          child.stdin!.end(text);
        });
        expect(await lint()).toBe('');
      } finally {
        await transport.close();
        await store.close();
      }
    });
  },
);
