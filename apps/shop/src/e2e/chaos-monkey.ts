/**
 * The chaos test's parts: a monkey that SIGKILLs a random running service process of a shop every
 * 1–2 s (never the gateway, which clients talk to), and the choice of backends a run covers.
 */
import { pause } from './running-shop.ts';
import { processesOf } from './shop-processes.ts';

export interface ChaosMonkey {
  /** Stops killing; resolves to the services killed, in order, and when the last kill was. */
  stop(): Promise<{ kills: string[]; lastKillAt: number }>;
}

/** Kills a random service that /health reports up, every 1–2 s, until stopped. */
export function startChaosMonkey(api: string): ChaosMonkey {
  let killing = true;
  const kills: string[] = [];
  let lastKillAt = Date.now();
  const loop = (async () => {
    while (killing) {
      await pause(1_000 + Math.random() * 1_000);
      if (!killing) break;
      const health = await fetch(`${api}/health`, { signal: AbortSignal.timeout(5_000) }).then(
        (response) => response.json(),
        () => null,
      );
      const up = processesOf(health?.services ?? {}).filter(
        ({ service, status, pid }) => service !== 'gateway' && status === 'up' && pid,
      );
      const victim = up[Math.floor(Math.random() * up.length)];
      if (!victim) continue;
      try {
        process.kill(victim.pid, 'SIGKILL');
        kills.push(victim.name);
        lastKillAt = Date.now();
      } catch {
        // Already gone.
      }
    }
  })();
  return {
    async stop() {
      killing = false;
      await loop;
      return { kills, lastKillAt };
    },
  };
}

/** `postgres-nats-x2`: PostgreSQL + NATS with two processes of every service that may run several. */
export const chaosBackends = ['embedded', 'postgres-nats', 'postgres-nats-x2'] as const;
export type ChaosBackend = (typeof chaosBackends)[number];

/**
 * The backends this run covers. SHOP_CHAOS_BACKENDS names them (comma-separated, or `all`);
 * without it one backend runs, in turn by the UTC day (days since the epoch modulo 3: embedded,
 * PostgreSQL + NATS, the same with two processes of each service), so that CI covers all three
 * within three days at the cost of one.
 */
export function chosenChaosBackends(
  setting = process.env.SHOP_CHAOS_BACKENDS,
  now = new Date(),
): ChaosBackend[] {
  if (!setting) return [chaosBackends[Math.floor(now.getTime() / 86_400_000) % chaosBackends.length]!];
  if (setting.trim() === 'all') return [...chaosBackends];
  const names = setting.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !chaosBackends.includes(name as ChaosBackend));
  if (unknown.length > 0)
    throw new Error(
      `SHOP_CHAOS_BACKENDS names ${unknown.join(', ')}: use ${chaosBackends.join(', ')} or all`,
    );
  return names as ChaosBackend[];
}

export function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}
