/**
 * Keeps a set of service processes running. Each child is `node <script.js>` (built) or
 * `node --import tsx <script.ts>` (sources) with the environment it is given; it counts as up
 * once its health URL answers 200. A child that exits while the supervisor is not stopping is
 * restarted after an exponential backoff (reset once it had stayed up for a while), so a crash
 * loop does not spin the CPU but a rare crash costs little. A child that cannot start at all (it
 * dies early, again and again, never healthy) stops the whole supervisor instead: `whenAllUp()`
 * rejects with its error (see restart-decision.ts).
 * The supervisor knows nothing about the shop: main.ts builds the list of services.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarizeChildError } from './child-error.ts';
import { readLogSince } from './child-log.ts';
import { displayPath } from './display-path.ts';
import { probeHealth } from './health-probe.ts';
import { type Incarnation, killAfterGrace, spawnIncarnation } from './incarnation.ts';
import {
  type CrashLoopPolicy,
  decideAfterExit,
  defaultCrashLoopPolicy,
  defaultRestartPolicy,
  type ExitPolicies,
  freshHistory,
  type RestartPolicy,
  type ServiceHistory,
} from './restart-decision.ts';
import { ServiceStartError } from './service-start-error.ts';
import { type ServiceStatus, type SupervisorStatus, writeStatusFile } from './status-file.ts';
import type { ServiceEntry, SupervisorEvent, SupervisorOptions } from './supervisor-options.ts';

export { ServiceStartError } from './service-start-error.ts';
export type { ServiceEntry, SupervisorEvent, SupervisorOptions } from './supervisor-options.ts';
export { type CrashLoopPolicy, defaultCrashLoopPolicy, defaultRestartPolicy, type RestartPolicy };

interface SupervisedService {
  entry: ServiceEntry;
  status: ServiceStatus;
  since: number;
  restarts: number;
  history: ServiceHistory;
  /** What the last incarnation wrote about why it died, so that a repeat is not printed again. */
  lastErrorLines: readonly string[];
  current: Incarnation | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

const nameWidth = 10;

export class Supervisor {
  private readonly services: SupervisedService[];
  private readonly policies: ExitPolicies;
  private readonly stopGraceMs: number;
  private readonly healthIntervalMs: number;
  private readonly print: (line: string) => void;
  private stopping: Promise<void> | undefined;
  private allUp: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };

  constructor(private readonly options: SupervisorOptions) {
    const names = options.services.map((entry) => entry.name);
    if (new Set(names).size !== names.length) throw new Error(`Duplicate service names: ${names.join(', ')}`);
    this.services = options.services.map((entry) => ({
      entry,
      status: 'stopped',
      since: Date.now(),
      restarts: 0,
      history: freshHistory,
      lastErrorLines: [],
      current: undefined,
      restartTimer: undefined,
    }));
    this.policies = {
      restart: { ...defaultRestartPolicy, ...options.restart },
      crashLoop: { ...defaultCrashLoopPolicy, ...options.crashLoop },
      ...(options.random ? { random: options.random } : {}),
    };
    this.stopGraceMs = options.stopGraceMs ?? 5000;
    this.healthIntervalMs = options.healthIntervalMs ?? 200;
    this.print = options.print ?? ((line) => console.log(line));
    let resolve = () => {};
    let reject: (error: Error) => void = () => {};
    const promise = new Promise<void>((done, fail) => {
      resolve = done;
      reject = fail;
    });
    promise.catch(() => {}); // nobody waiting for it is no reason for an unhandled rejection
    this.allUp = { promise, resolve, reject };
  }

  start(): void {
    if (this.stopping) throw new Error('The supervisor was stopped; create a new one');
    mkdirSync(this.options.logDir, { recursive: true });
    for (const service of this.services) this.spawn(service);
    this.writeStatus();
  }

  /**
   * Resolves the first time every service is up at once. Rejects with a ServiceStartError, once
   * every child is stopped, when a service crash-looped before it was ever up.
   */
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
    await Promise.all(running.map((incarnation) => killAfterGrace(incarnation, this.stopGraceMs)));
    this.writeStatus();
  }

  private spawn(service: SupervisedService): void {
    const { entry } = service;
    const incarnation = spawnIncarnation({
      ...entry,
      logFile: this.logFileOf(entry),
      onExit: (code, signal, spawnError) => {
        if (spawnError)
          this.print(`  ${entry.name.padEnd(nameWidth)} could not be started: ${spawnError.message}`);
        this.onExit(service, incarnation, code, signal);
      },
    });
    service.current = incarnation;
    this.setStatus(service, 'starting');
    const { pid } = incarnation.child;
    if (pid !== undefined) {
      this.emit({ type: 'spawned', service: entry.name, pid, restarts: service.restarts });
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
    const exitedAt = Date.now();
    const { startedAt, upAt } = incarnation;
    const decision = decideAfterExit(service.history, { startedAt, upAt, exitedAt }, this.policies);
    service.history = decision.history;
    const delayMs = decision.action === 'restart' ? decision.delayMs : null;
    this.setStatus(service, 'down');
    this.writeStatus();
    this.emit({ type: 'exited', service: entry.name, pid, code, signal, restartInMs: delayMs });

    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const ranFor = ((exitedAt - startedAt) / 1000).toFixed(1);
    const next = delayMs === null ? 'giving up' : `restarting in ${delayMs} ms`;
    const errorLines = this.reportExit(service, incarnation, `pid ${pid} ${how} after ${ranFor} s; ${next}`);
    if (delayMs === null) this.giveUp(service, errorLines);
    else this.restartAfter(service, delayMs);
  }

  /**
   * Prints how the incarnation ended, then what it wrote about why, unless the one before died of
   * the same: a crash loop shows its error once, not once per restart. Returns those lines.
   */
  private reportExit(service: SupervisedService, incarnation: Incarnation, how: string): string[] {
    const logFile = this.logFileOf(service.entry);
    this.print(`  ${service.entry.name.padEnd(nameWidth)} ${how} (log: ${displayPath(logFile)})`);
    const errorLines = summarizeChildError(readLogSince(logFile, incarnation.logStart));
    const isRepeat = errorLines.length > 0 && errorLines.join('\n') === service.lastErrorLines.join('\n');
    const shown = isRepeat ? ['(the same error as before)'] : errorLines;
    for (const line of shown) this.print(`  ${''.padEnd(nameWidth)} | ${line}`);
    service.lastErrorLines = errorLines;
    return errorLines;
  }

  private restartAfter(service: SupervisedService, delayMs: number): void {
    service.restartTimer = setTimeout(() => {
      service.restartTimer = undefined;
      service.restarts++;
      this.spawn(service);
      this.writeStatus();
    }, delayMs);
  }

  /** Stops every child because `service` cannot start; whenAllUp() then rejects with why. */
  private giveUp(service: SupervisedService, errorLines: readonly string[]): void {
    const { name } = service.entry;
    const { earlyExitsInARow } = service.history;
    this.emit({ type: 'gave-up', service: name, earlyExits: earlyExitsInARow });
    const error = new ServiceStartError({
      service: name,
      errorLines,
      logFile: this.logFileOf(service.entry),
      message: `${name} exited ${earlyExitsInARow} times in a row without ever answering its health check`,
    });
    void this.stop().then(() => this.allUp.reject(error));
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
