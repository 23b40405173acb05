/**
 * Each service's health as the gateway sees it: up when its health endpoint answers, with the pid
 * from it (or from the supervisor), its URL, and the supervisor's restart count and status from
 * DATA_DIR/supervisor.json (absent when the services were started without the supervisor).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  instanceName,
  instancesOf,
  portOf,
  type ServiceName,
  type ShopConfig,
  serviceNames,
} from '../config.ts';
import type { ServiceClient } from '../platform/service-client.ts';

export interface SupervisedEntry {
  pid?: number | null;
  restarts?: number;
  status?: string;
  since?: string;
}

export async function readSupervised(dataDir: string): Promise<Record<string, SupervisedEntry>> {
  return readFile(join(dataDir, 'supervisor.json'), 'utf8')
    .then((text) => (JSON.parse(text) as { services?: Record<string, SupervisedEntry> }).services ?? {})
    .catch(() => ({}));
}

/**
 * Per service: `up` while at least one of its processes answers, the first process's pid and base
 * URL, and, when it runs as several processes, each one's own.
 */
export async function healthOf(call: ServiceClient, config: ShopConfig) {
  const supervised = await readSupervised(config.dataDir);
  const processOf = async (service: ServiceName, instance: number) => {
    const name = instanceName(service, instance);
    const url = `http://127.0.0.1:${portOf(config, service, instance)}`;
    if (service === 'gateway')
      return { status: 'up', pid: process.pid, url, restarts: supervised[name]?.restarts ?? 0 };
    const answer = await call
      .instance(service, instance, 'GET', '/admin/health', { timeoutMs: 500 })
      .catch(() => null);
    const pid = (answer?.body as { pid?: number } | null)?.pid ?? supervised[name]?.pid ?? null;
    return {
      status: answer?.status === 200 ? 'up' : 'down',
      pid,
      url,
      restarts: supervised[name]?.restarts ?? 0,
    };
  };
  const entries = await Promise.all(
    serviceNames.map(async (service) => {
      const count = instancesOf(config, service);
      const processes = await Promise.all(
        Array.from({ length: count }, (_, instance) => processOf(service, instance)),
      );
      const status = processes.some((each) => each.status === 'up') ? 'up' : 'down';
      const restarts = processes.reduce((sum, each) => sum + each.restarts, 0);
      return [
        service,
        { ...processes[0]!, status, restarts, ...(count > 1 ? { instances: processes } : {}) },
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}
