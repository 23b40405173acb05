/** The port checks against real sockets held by real processes. */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, holdPort, type PortHolderProcess } from '../test-support/helpers.ts';
import {
  describeTakenPorts,
  findFreePortBlock,
  findPortHolder,
  findTakenPorts,
  isPortFree,
} from './ports.ts';

const holders: PortHolderProcess[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((holder) => holder.release()));
});

async function held(port: number, host?: string): Promise<PortHolderProcess> {
  const holder = await holdPort(port, host);
  holders.push(holder);
  return holder;
}

describe('port checks', () => {
  it('finds the process holding a port on 127.0.0.1: its pid and command', async () => {
    const port = await freePort();
    const holder = await held(port);
    expect(await isPortFree(port)).toBe(false);
    expect(findPortHolder(port)).toEqual({ pid: holder.pid, command: 'node' });
  });

  it('sees a port held on every interface (IPv6 ::) as taken, and who holds it', async () => {
    const port = await freePort();
    const holder = await held(port, '::');
    expect(await isPortFree(port)).toBe(false);
    expect(findPortHolder(port)).toEqual({ pid: holder.pid, command: 'node' });
  });

  it('finds a free port free, held by nobody', async () => {
    const port = await freePort();
    expect(await isPortFree(port)).toBe(true);
    expect(findPortHolder(port)).toBeUndefined();
  });

  it('lists the taken ports among those the shop needs, in its order, and names the first', async () => {
    const [first, second, third] = [await freePort(), await freePort(), await freePort()];
    const holder = await held(second);
    await held(third);
    const uses = [
      { port: first, service: 'users' },
      { port: second, service: 'catalog' },
      { port: third, service: 'inventory' },
    ];
    const taken = await findTakenPorts(uses);
    expect(taken).toEqual([uses[1], uses[2]]);
    expect(describeTakenPorts([taken[0]!, ...taken.slice(1)], 'stop it')).toBe(
      `port ${second} (catalog) is in use by pid ${holder.pid} (node), as is 1 other port of the shop: stop it`,
    );
  });

  it('suggests the next round hundreds whose eight ports are all free, skipping a block with one taken', async () => {
    const taken = Math.floor((await freePort()) / 100) * 100;
    const nextBlock = taken + 100;
    await held(nextBlock + 3);
    const suggested = await findFreePortBlock(taken, 8);
    expect(suggested).toBeDefined();
    expect(suggested! % 100).toBe(0);
    expect(suggested).toBeGreaterThan(nextBlock);
    const ports = Array.from({ length: 8 }, (_, offset) => suggested! + offset);
    expect(await Promise.all(ports.map((port) => isPortFree(port)))).toEqual(ports.map(() => true));
  });
});
