/**
 * CPU per order across every shop process: the gateway's `/admin/cpu` (each process's CPU time
 * since its start) read before and after a run; the difference, summed, over the orders finished.
 */
import { type ShopClient, ShopHttpError } from './shop-client.ts';

type CpuSample = Record<string, { pid: number; userMs: number; systemMs: number } | null>;

/** The shop's CPU counters now, or undefined when the shop does not report them. */
export async function sampleCpu(client: ShopClient): Promise<CpuSample | undefined> {
  try {
    // Outside dev mode the shop answers admin reads only with a token: the one in the environment.
    const token = process.env.SHOP_READ_TOKEN || process.env.SHOP_ADMIN_TOKEN;
    const { body } = await client.get<{ processes: CpuSample }>(
      '/admin/cpu',
      token ? { authorization: `Bearer ${token}` } : {},
    );
    return body.processes;
  } catch (error) {
    if (error instanceof ShopHttpError && error.status === 404) return undefined;
    throw error;
  }
}

/** One line: CPU ms per order, in total and for the processes that used the most. */
export function cpuPerOrderReport(before: CpuSample, after: CpuSample, orders: number): string {
  const used: Array<[string, number]> = [];
  const unknown: string[] = [];
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    // A process that did not answer, or restarted (another pid), has no difference to take.
    if (!start || !end || start.pid !== end.pid) {
      unknown.push(name);
      continue;
    }
    used.push([name, end.userMs + end.systemMs - (start.userMs + start.systemMs)]);
  }
  const total = used.reduce((sum, [, ms]) => sum + ms, 0);
  const perOrder = (ms: number) => (orders > 0 ? ms / orders : 0).toFixed(1);
  const top = used
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${perOrder(ms)}`)
    .join(', ');
  return (
    `CPU per order, all shop processes: ${perOrder(total)} ms (${top})` +
    (unknown.length > 0 ? `; not counted (no answer or restarted): ${unknown.join(', ')}` : '')
  );
}
