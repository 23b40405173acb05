/**
 * Keeps a set of service processes running. Each child is `node --import tsx <script>` with the
 * environment it is given; it counts as up once its health URL answers 200. A child that exits
 * while the supervisor is not stopping is restarted after an exponential backoff (reset once it
 * had stayed up for a while), so a crash loop does not spin the CPU but a rare crash costs little.
 * The supervisor knows nothing about the shop: main.ts builds the list of services.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@causeway/core';
import { openChildLog, readLogTail } from './child-log.ts';
import { displayPath } from './display-path.ts';
import { probeHealth } from './health-probe.ts';
import { type ServiceStatus, type SupervisorStatus, writeStatusFile } from './status-file.ts';

export interface ServiceEntry {
  name: string;
  /** A TypeScript entry point, run with tsx. */
  script: string;
  /** The child's whole environment (nothing else is inherited). */
  env: Record<string, string>;
  /** GET answering 200 when the child is ready. */
  healthUrl: string;
  healthHeaders?: Record<string, string>;
  /** Shown after the pid when the child comes up, e.g. its URL and where its data lives. */
  describe?: string;
}

export interface RestartPolicy {
  /** Delay before the first restart; doubles with each crash in a row... */
  initialMs: number;
  /** ...up to this. */
  maxMs: number;
  /** A child that stayed up this long starts again from `initialMs` when it crashes. */
  resetAfterMs: number;
}

/**
 * A child that was healthy for 3 s and then died (killed, out of memory) is not crash-looping:
 * it comes back after the initial delay. Only deaths in a row before that back off further.
 */
export const defaultRestartPolicy: RestartPolicy = { initialMs: 250, maxMs: 10_000, resetAfterMs: 3_000 };

export type SupervisorEvent =
  | { type: 'spawned'; service: string; pid: number; restarts: number }
  | { type: 'up'; service: string; pid: number }
  | {
      type: 'exited';
      service: string;
      pid: number | undefined;
      code: number | null;
      signal: NodeJS.Signals | null;
      /** null: exited because the supervisor stopped it. */
      restartInMs: number | null;
    }
  | { type: 'foreign-health'; service: string; answeredByPid: number };

export interface SupervisorOptions {
  services: readonly ServiceEntry[];
  /** Where the status (supervisor.json) is written whenever it changes. */
  statusFile: string;
  /** Each child's output goes to `<logDir>/<name>.log`. */
  logDir: string;
  restart?: Partial<RestartPolicy>;
  /** How long a child gets between SIGTERM and SIGKILL when stopping. */
  stopGraceMs?: number;
  healthIntervalMs?: number;
  /** One line of output (default: console.log). */
  print?: (line: string) => void;
  /** Observes what happens to the children, with the time it happened (Date.now()). */
  onEvent?: (event: SupervisorEvent, at: number) => void;
  /** Jitter source for the backoff; `() => 1` makes the delays exact (tests). */
  random?: () => number;
}

/** One running process of a service, from spawn to exit. */
interface Incarnation {
  child: ChildProcess;
  exited: Promise<void>;
  logStart: number;
  startedAt: number;
  upAt: number | undefined;
}

interface SupervisedService {
  entry: ServiceEntry;
  status: ServiceStatus;
  since: number;
  restarts: number;
  crashesInARow: number;
  current: Incarnation | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

const nameWidth = 10;

export class Supervisor {
  private readonly services: SupervisedService[];
  private readonly policy: RestartPolicy;
  private readonly stopGraceMs: number;
  private readonly healthIntervalMs: number;
  private readonly print: (line: string) => void;
  private stopping: Promise<void> | undefined;
  private allUp: { promise: Promise<void>; resolve: () => void };

  constructor(private readonly options: SupervisorOptions) {
    const names = options.services.map((entry) => entry.name);
    if (new Set(names).size !== names.length) throw new Error(`Duplicate service names: ${names.join(', ')}`);
    this.services = options.services.map((entry) => ({
      entry,
      status: 'stopped',
      since: Date.now(),
      restarts: 0,
      crashesInARow: 0,
      current: undefined,
      restartTimer: undefined,
    }));
    this.policy = { ...defaultRestartPolicy, ...options.restart };
    this.stopGraceMs = options.stopGraceMs ?? 5000;
    this.healthIntervalMs = options.healthIntervalMs ?? 200;
    this.print = options.print ?? ((line) => console.log(line));
    let resolve = () => {};
    this.allUp = { promise: new Promise<void>((done) => (resolve = done)), resolve };
  }

  start(): void {
    if (this.stopping) throw new Error('The supervisor was stopped; create a new one');
    mkdirSync(this.options.logDir, { recursive: true });
    for (const service of this.services) this.spawn(service);
    this.writeStatus();
  }

  /** Resolves the first time every service is up at once (never, if one keeps crashing). */
  whenAllUp(): Promise<void> {
    return this.allUp.promise;
  }

  /** The names of the services not up right now. */
  notUp(): string[] {
    return this.services.filter((service) => service.status !== 'up').map((service) => service.entry.name);
  }

  status(): SupervisorStatus {
    return {
      supervisorPid: process.pid,
      updatedAt: new Date().toISOString(),
      services: Object.fromEntries(
        this.services.map((service) => [
          service.entry.name,
          {
            pid: service.current?.child.pid ?? null,
            restarts: service.restarts,
            status: service.status,
            since: new Date(service.since).toISOString(),
          },
        ]),
      ),
    };
  }

  /**
   * Stops every child: SIGTERM, then SIGKILL for those still running after the grace period.
   * Resolves once all are gone; pending restarts are cancelled. Calling it again waits as well.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const running: Incarnation[] = [];
    for (const service of this.services) {
      clearTimeout(service.restartTimer);
      service.restartTimer = undefined;
      if (service.current) {
        running.push(service.current);
        this.setStatus(service, 'stopping');
        service.current.child.kill('SIGTERM');
      } else {
        this.setStatus(service, 'stopped');
      }
    }
    this.writeStatus();
    await Promise.all(running.map((incarnation) => this.killAfterGrace(incarnation)));
    this.writeStatus();
  }

  private async killAfterGrace(incarnation: Incarnation): Promise<void> {
    const grace = new AbortController();
    const gone = await Promise.race([
      incarnation.exited.then(() => true),
      sleep(this.stopGraceMs, false, { signal: grace.signal }).catch(() => false),
    ]);
    grace.abort();
    if (gone) return;
    incarnation.child.kill('SIGKILL');
    await incarnation.exited;
  }

  private spawn(service: SupervisedService): void {
    const { entry } = service;
    const logFile = this.logFileOf(entry);
    const log = openChildLog(logFile, `${entry.name} started ${new Date().toISOString()}`);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', entry.script], {
        env: entry.env,
        stdio: ['ignore', log.fd, log.fd],
      });
    } finally {
      closeSync(log.fd); // the child holds its own copy
    }
    const incarnation: Incarnation = {
      child,
      logStart: log.startOffset,
      startedAt: Date.now(),
      upAt: undefined,
      exited: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          this.onExit(service, incarnation, code, signal);
          resolve();
        });
        child.once('error', (error) => {
          // Without a pid the process never started, so no 'exit' will follow.
          if (child.pid !== undefined) return;
          this.print(`  ${entry.name.padEnd(nameWidth)} could not be started: ${error.message}`);
          this.onExit(service, incarnation, null, null);
          resolve();
        });
      }),
    };
    service.current = incarnation;
    this.setStatus(service, 'starting');
    if (child.pid !== undefined) {
      this.emit({ type: 'spawned', service: entry.name, pid: child.pid, restarts: service.restarts });
      void this.watchHealth(service, incarnation);
    }
  }

  private async watchHealth(service: SupervisedService, incarnation: Incarnation): Promise<void> {
    const { entry } = service;
    let warnedForeign = false;
    while (service.current === incarnation && service.status === 'starting') {
      const answer = await probeHealth(entry.healthUrl, entry.healthHeaders);
      if (service.current !== incarnation || service.status !== 'starting') return;
      const pid = incarnation.child.pid!;
      if (answer.ok && (answer.pid === undefined || answer.pid === pid)) {
        this.onUp(service, incarnation);
        return;
      }
      if (answer.ok && answer.pid !== undefined && !warnedForeign) {
        // Typically a child of an earlier supervisor that was killed without stopping its children.
        warnedForeign = true;
        this.emit({ type: 'foreign-health', service: entry.name, answeredByPid: answer.pid });
        this.print(
          `  ${entry.name.padEnd(nameWidth)} ${entry.healthUrl} is answered by pid ${answer.pid}, not by ` +
            `${entry.name} (pid ${pid}): is an earlier shop still running? Stop it (kill ${answer.pid}).`,
        );
      }
      await sleep(this.healthIntervalMs);
    }
  }

  private onUp(service: SupervisedService, incarnation: Incarnation): void {
    const pid = incarnation.child.pid!;
    incarnation.upAt = Date.now();
    this.setStatus(service, 'up');
    this.writeStatus();
    this.emit({ type: 'up', service: service.entry.name, pid });
    const again = service.restarts > 0 ? `  (restart ${service.restarts})` : '';
    this.print(
      `  ${service.entry.name.padEnd(nameWidth)} pid ${String(pid).padEnd(7)} ${service.entry.describe ?? ''}${again}`.trimEnd(),
    );
    if (this.services.every((each) => each.status === 'up')) this.allUp.resolve();
  }

  private onExit(
    service: SupervisedService,
    incarnation: Incarnation,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (service.current !== incarnation) return;
    service.current = undefined;
    const { entry } = service;
    const pid = incarnation.child.pid;
    if (this.stopping) {
      this.setStatus(service, 'stopped');
      this.writeStatus();
      this.emit({ type: 'exited', service: entry.name, pid, code, signal, restartInMs: null });
      return;
    }
    const stayedUpMs = incarnation.upAt === undefined ? 0 : Date.now() - incarnation.upAt;
    if (stayedUpMs >= this.policy.resetAfterMs) service.crashesInARow = 0;
    service.crashesInARow++;
    const delayMs = backoffDelay(service.crashesInARow, this.policy, this.options.random);
    this.setStatus(service, 'down');
    this.writeStatus();
    this.emit({ type: 'exited', service: entry.name, pid, code, signal, restartInMs: delayMs });

    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const ranFor = ((Date.now() - incarnation.startedAt) / 1000).toFixed(1);
    this.print(
      `  ${entry.name.padEnd(nameWidth)} pid ${pid} ${how} after ${ranFor} s; restarting in ${delayMs} ms ` +
        `(log: ${displayPath(this.logFileOf(entry))})`,
    );
    for (const line of readLogTail(this.logFileOf(entry), incarnation.logStart)) {
      this.print(`  ${''.padEnd(nameWidth)} | ${line}`);
    }
    service.restartTimer = setTimeout(() => {
      service.restartTimer = undefined;
      service.restarts++;
      this.spawn(service);
      this.writeStatus();
    }, delayMs);
  }

  private setStatus(service: SupervisedService, status: ServiceStatus): void {
    if (service.status === status) return;
    service.status = status;
    service.since = Date.now();
  }

  private writeStatus(): void {
    try {
      writeStatusFile(this.options.statusFile, this.status());
    } catch (error) {
      // The children matter more than the report about them: keep supervising.
      this.print(`  supervisor could not write ${this.options.statusFile}: ${(error as Error).message}`);
    }
  }

  private logFileOf(entry: ServiceEntry): string {
    return join(this.options.logDir, `${entry.name}.log`);
  }

  private emit(event: SupervisorEvent): void {
    this.options.onEvent?.(event, Date.now());
  }
}
