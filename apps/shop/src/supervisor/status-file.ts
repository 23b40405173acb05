/**
 * DATA_DIR/supervisor.json: the supervisor's view of its children (pid, restarts, status), so
 * that other processes (the gateway's /api/health, an operator) can see it without asking.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * starting: spawned, health not answered yet; up: health answered 200; down: exited, restart
 * pending; stopping: told to stop; stopped: gone on purpose.
 */
export type ServiceStatus = 'starting' | 'up' | 'down' | 'stopping' | 'stopped';

export interface ServiceStatusEntry {
  pid: number | null;
  restarts: number;
  status: ServiceStatus;
  /** When `status` last changed (ISO 8601). */
  since: string;
}

export interface SupervisorStatus {
  supervisorPid: number;
  updatedAt: string;
  services: Record<string, ServiceStatusEntry>;
}

export const statusFileName = 'supervisor.json';

export function writeStatusFile(file: string, status: SupervisorStatus): void {
  mkdirSync(dirname(file), { recursive: true });
  // Write then rename: a reader never sees a half-written file.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(status, null, 2)}\n`);
  renameSync(temporary, file);
}

/** The last status written, or undefined when no supervisor wrote one (e.g. a service run alone). */
export function readStatusFile(file: string): SupervisorStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SupervisorStatus;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
