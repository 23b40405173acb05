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

/**
 * One line for the first port in `uses` that is taken, naming the port, who wanted it and the
 * process holding it, then `fix`; undefined when all are free.
 */
export async function checkPortsFree(uses: readonly PortUse[], fix: string): Promise<string | undefined> {
  const free = await Promise.all(uses.map((use) => isPortFree(use.port)));
  const taken = uses.filter((_, index) => !free[index]);
  const first = taken[0];
  if (!first) return undefined;
  const holder = findPortHolder(first.port);
  const by = holder
    ? `by pid ${holder.pid} (${holder.command})`
    : "(the process holding it is not visible in /proc, perhaps another user's)";
  const more = taken.length > 1 ? `, as are ${taken.length - 1} more of the shop's ports` : '';
  return `port ${first.port} (${first.service}) is in use ${by}${more}: ${fix}`;
}
