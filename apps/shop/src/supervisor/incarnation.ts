/**
 * One running process of a service, from spawn to exit. Its stdout and stderr go straight into
 * the service's log file (see child-log.ts); it is stopped with SIGTERM, then SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeArgumentsFor } from './child-command.ts';
import { openChildLog } from './child-log.ts';

export interface Incarnation {
  child: ChildProcess;
  /** Resolves once the process is gone, or once spawning it failed. */
  exited: Promise<void>;
  /** Where this incarnation's output starts in the log file. */
  logStart: number;
  startedAt: number;
  /** When it first answered its health check (Date.now()); unset until then. */
  upAt: number | undefined;
}

export interface SpawnOptions {
  name: string;
  /** A `.js` entry point runs with plain node, a `.ts` one with tsx (see child-command.ts). */
  script: string;
  env: Record<string, string>;
  logFile: string;
  /**
   * Called once when the process is gone: with its exit code or signal, or with the error that
   * kept it from starting at all (no pid, so no exit follows).
   */
  onExit: (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => void;
}

/** Starts the process; `onExit` is never called before this returns. */
export function spawnIncarnation(options: SpawnOptions): Incarnation {
  const log = openChildLog(options.logFile, `${options.name} started ${new Date().toISOString()}`);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, nodeArgumentsFor(options.script), {
      env: options.env,
      stdio: ['ignore', log.fd, log.fd],
    });
  } finally {
    closeSync(log.fd); // the child holds its own copy
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      options.onExit(code, signal);
      resolve();
    });
    child.once('error', (error) => {
      if (child.pid !== undefined) return; // a running child's errors end in 'exit' as well
      options.onExit(null, null, error);
      resolve();
    });
  });
  return { child, exited, logStart: log.startOffset, startedAt: Date.now(), upAt: undefined };
}

/** Waits `graceMs` for a process already sent SIGTERM, then SIGKILLs it; resolves once it is gone. */
export async function killAfterGrace(incarnation: Incarnation, graceMs: number): Promise<void> {
  const grace = new AbortController();
  const gone = await Promise.race([
    incarnation.exited.then(() => true),
    sleep(graceMs, false, { signal: grace.signal }).catch(() => false),
  ]);
  grace.abort();
  if (gone) return;
  incarnation.child.kill('SIGKILL');
  await incarnation.exited;
}
