/**
 * Are the shop's ports free? Each is tried the way a service will use it (a listen on
 * 127.0.0.1), and for one that is taken the process holding it is looked up in /proc, so that
 * the message can say what to stop.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

/** The process that holds a port, as /proc shows it. */
export interface PortHolder {
  pid: number;
  /** Its command name (/proc/<pid>/comm), e.g. `node`. */
  command: string;
}

/** True when a listen on `host:port` succeeds now (it is closed again at once). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

const listenState = '0A';

/**
 * The socket inodes bound to local `port`, listening ones first, from /proc/net/tcp and tcp6
 * (columns: sl, local address:port in hex, remote, state, ..., inode in the tenth).
 */
function socketInodesOn(port: number): string[] {
  const listening: string[] = [];
  const other: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6, or not Linux
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const [, local, , state, , , , , , inode] = columns;
      if (!local || !inode || inode === '0') continue;
      if (Number.parseInt(local.split(':')[1] ?? '', 16) !== port) continue;
      (state === listenState ? listening : other).push(inode);
    }
  }
  return [...listening, ...other];
}

/** The pid whose open files include one of `inodes` (a /proc/<pid>/fd/<n> link `socket:[inode]`). */
function pidHoldingSocket(inodes: readonly string[]): number | undefined {
  const wanted = new Set(inodes.map((inode) => `socket:[${inode}]`));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone already
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** Who holds TCP `port`, or undefined when /proc does not tell (another user's process, not Linux). */
export function findPortHolder(port: number): PortHolder | undefined {
  const inodes = socketInodesOn(port);
  if (inodes.length === 0) return undefined;
  const pid = pidHoldingSocket(inodes);
  if (pid === undefined) return undefined;
  let command = '?';
  try {
    command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    // it exited since: the pid still says who it was
  }
  return { pid, command };
}

export interface PortUse {
  port: number;
  /** Who will listen on it, for the message: `users`. */
  service: string;
}

/** The ones of `uses` whose port is taken now, in the order given. */
export async function findTakenPorts(uses: readonly PortUse[]): Promise<PortUse[]> {
  const free = await Promise.all(uses.map((use) => isPortFree(use.port)));
  return uses.filter((_, index) => !free[index]);
}

/**
 * A first port from which `count` ports in a row are free now, to suggest in place of `taken`:
 * the next round hundreds above it (3100, 3200... for 3000), so that the suggestion is easy to
 * type and far from the shop already running; undefined when none of the next twenty is free.
 */
export async function findFreePortBlock(taken: number, count: number): Promise<number | undefined> {
  const firstBase = Math.floor(taken / 100) * 100 + 100;
  for (let step = 0; step < 20; step++) {
    const base = firstBase + step * 100;
    if (base + count - 1 > 65_535) return undefined;
    const ports = Array.from({ length: count }, (_, offset) => base + offset);
    const free = await Promise.all(ports.map((port) => isPortFree(port)));
    if (free.every(Boolean)) return base;
  }
  return undefined;
}

/**
 * One line for the first of `taken` (see findTakenPorts): the port, who wanted it and the
 * process holding it, then `fix`.
 */
export function describeTakenPorts(taken: readonly [PortUse, ...PortUse[]], fix: string): string {
  const [first] = taken;
  const holder = findPortHolder(first.port);
  const by = holder
    ? `by pid ${holder.pid} (${holder.command})`
    : "(the process holding it is not visible in /proc, perhaps another user's)";
  const others = taken.length - 1;
  const more =
    others === 0
      ? ''
      : others === 1
        ? ', as is 1 other port of the shop'
        : `, as are ${others} other ports of the shop`;
  return `port ${first.port} (${first.service}) is in use ${by}${more}: ${fix}`;
}
