/**
 * Each service's health as the gateway sees it: up when its health endpoint answers, with the pid
 * from it (or from the supervisor) and the supervisor's restart count and status from
 * DATA_DIR/supervisor.json (absent when the services were started without the supervisor).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serviceNames } from '../config.ts';
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

export async function healthOf(call: ServiceClient, dataDir: string) {
  const supervised = await readSupervised(dataDir);
  const entries = await Promise.all(
    serviceNames.map(async (service) => {
      if (service === 'gateway')
        return [
          service,
          { status: 'up', pid: process.pid, restarts: supervised[service]?.restarts ?? 0 },
        ] as const;
      const answer = await call(service, 'GET', '/admin/health', { timeoutMs: 500 }).catch(() => null);
      const pid = (answer?.body as { pid?: number } | null)?.pid ?? supervised[service]?.pid ?? null;
      return [
        service,
        { status: answer?.status === 200 ? 'up' : 'down', pid, restarts: supervised[service]?.restarts ?? 0 },
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}
