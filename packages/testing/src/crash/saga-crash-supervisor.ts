/**
 * Keeps one saga-child.ts process of a role running: restarts it whenever it exits and counts how
 * each incarnation died (a self-kill it reported on stdout, the parent's SIGKILL, or anything
 * else, which the test treats as a failure). As in messaging-crash-scenario.ts, a spare child
 * that has loaded its modules waits on stdin, so a restart takes milliseconds instead of the
 * second Node and tsx need to start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SagaChildConfig, SagaKillKind, SagaRole, SagaSelfKillKind } from './saga-crash-config.ts';

const childScript = fileURLToPath(new URL('./saga-child.ts', import.meta.url));

interface Incarnation {
  child: ChildProcess;
  promoted: boolean;
  ready: boolean;
  loaded: boolean;
  externalKill: boolean;
  lastSelfKill: SagaSelfKillKind | null;
  stderrTail: string;
}

export class SagaChildSupervisor {
  private running: Incarnation | null = null;
  private spare: Incarnation | null = null;
  private stopped = false;
  incarnations = 0;
  readonly unexpectedExits: string[] = [];

  constructor(
    readonly role: SagaRole,
    private readonly configFor: () => SagaChildConfig,
    private readonly onKill: (kind: SagaKillKind, role: SagaRole) => void,
  ) {}

  start(): void {
    this.spare = this.spawnSpare();
    this.promote();
  }

  private spawnSpare(): Incarnation {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, JSON.stringify(this.configFor())],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const incarnation: Incarnation = {
      child,
      promoted: false,
      ready: false,
      loaded: false,
      externalKill: false,
      lastSelfKill: null,
      stderrTail: '',
    };
    child.stdin!.on('error', () => {}); // writing to a child that just died
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'loaded') incarnation.loaded = true;
      if (line === 'ready') incarnation.ready = true;
      const match = /^kill (\S+)/.exec(line);
      if (match) incarnation.lastSelfKill = match[1] as SagaSelfKillKind;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      incarnation.stderrTail = (incarnation.stderrTail + text).slice(-4000);
      process.stderr.write(text);
    });
    // 'close': stdio is drained too, so a self-kill's report line has been read.
    child.on('close', (code, signal) => this.onClose(incarnation, code, signal));
    return incarnation;
  }

  private promote(): void {
    if (this.stopped || !this.spare) return;
    const next = this.spare;
    this.spare = this.spawnSpare();
    this.incarnations++;
    next.promoted = true;
    this.running = next;
    next.child.stdin!.write('go\n');
  }

  private onClose(incarnation: Incarnation, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopped) return;
    if (!incarnation.promoted) {
      if (incarnation !== this.spare) return; // replaced by refreshSpare()
      this.unexpectedExits.push(
        `spare ${this.role} exited (code ${code}, signal ${signal}): ${incarnation.stderrTail}`,
      );
      this.spare = this.spawnSpare();
      return;
    }
    if (incarnation.externalKill) this.onKill('external', this.role);
    else if (signal === 'SIGKILL' && incarnation.lastSelfKill)
      this.onKill(incarnation.lastSelfKill, this.role);
    else {
      this.unexpectedExits.push(
        `${this.role} exited (code ${code}, signal ${signal}): ${incarnation.stderrTail}`,
      );
    }
    if (this.running === incarnation) {
      this.running = null;
      this.promote();
    }
  }

  /** Replaces the spare by one started with the current configuration (e.g. no more kills). */
  refreshSpare(): void {
    const old = this.spare;
    this.spare = this.spawnSpare();
    old?.child.kill('SIGKILL');
  }

  get isReady(): boolean {
    return this.running?.ready === true;
  }

  /** SIGKILLs the running incarnation from outside; its 'close' promotes the spare. */
  kill(): boolean {
    const running = this.running;
    if (!running?.ready || running.externalKill) return false;
    running.externalKill = true;
    running.child.kill('SIGKILL');
    return true;
  }

  /** Kills the children for good and waits until they are gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    const children = [this.running?.child, this.spare?.child].filter(
      (child): child is ChildProcess =>
        child !== undefined && child.exitCode === null && child.signalCode === null,
    );
    await Promise.all(
      children.map((child) => {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return gone;
      }),
    );
  }
}
