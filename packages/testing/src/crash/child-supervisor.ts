/**
 * Keeps one crash-test child process of a role running: restarts it whenever it exits and counts
 * how each incarnation died: a self-kill it reported on stdout (`kill <kind> <detail>`), the
 * parent's SIGKILL (`external`), or anything else (an unexpected exit, which tests treat as a
 * failure). A spare child that has loaded its modules waits on stdin for `go`, so a restart takes
 * milliseconds instead of the half second Node needs to start (kills, not start-ups, are what is
 * tested). Children are compiled JavaScript (see compiled-child.ts) and print `loaded` and `ready`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One child process: a spare until it is told to go, then the running incarnation. */
interface Incarnation {
  child: ChildProcess;
  promoted: boolean;
  ready: boolean;
  externalKill: boolean;
  lastSelfKill: { kind: string; detail: string } | null;
  stderrTail: string;
  promotedAt: number;
  loaded: boolean;
}

export class ChildSupervisor {
  private running: Incarnation | null = null;
  private spare: Incarnation | null = null;
  private stopped = false;
  incarnations = 0;
  /** Promotions of a spare still loading its modules (restarts faster than Node starts). */
  promotedBeforeLoaded = 0;
  readonly unexpectedExits: string[] = [];
  /** Milliseconds from `go` to `ready` (store and transport opened), per incarnation. */
  readonly startupMs: number[] = [];

  constructor(
    readonly role: string,
    /** The child's compiled JavaScript (compiledChildScript). */
    private readonly script: string,
    /** The child's configuration, read at each spawn (so later children can get other settings). */
    private readonly configFor: () => unknown,
    /** How an incarnation died: its self-kill kind and detail, or `external`. */
    private readonly onKill: (kind: string, detail: string) => void,
  ) {}

  start(): void {
    this.spare = this.spawnSpare();
    this.promote();
  }

  private spawnSpare(): Incarnation {
    const child = spawn(process.execPath, [this.script, JSON.stringify(this.configFor())], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const incarnation: Incarnation = {
      child,
      promoted: false,
      ready: false,
      externalKill: false,
      lastSelfKill: null,
      stderrTail: '',
      promotedAt: 0,
      loaded: false,
    };
    child.stdin!.on('error', () => {}); // writing to a child that just died
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'loaded') incarnation.loaded = true;
      if (line === 'ready') {
        incarnation.ready = true;
        this.startupMs.push(Date.now() - incarnation.promotedAt);
      }
      const match = /^kill (\S+) ?(.*)$/.exec(line);
      if (match) incarnation.lastSelfKill = { kind: match[1]!, detail: match[2] ?? '' };
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
    if (!next.loaded) this.promotedBeforeLoaded++;
    next.promoted = true;
    next.promotedAt = Date.now();
    this.running = next;
    next.child.stdin!.write('go\n');
  }

  private onClose(incarnation: Incarnation, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopped) return;
    const { role } = this;
    if (!incarnation.promoted) {
      if (incarnation !== this.spare) return; // replaced by refreshSpare()
      this.unexpectedExits.push(
        `spare ${role} exited (code ${code}, signal ${signal}): ${incarnation.stderrTail}`,
      );
      this.spare = this.spawnSpare();
      return;
    }
    if (incarnation.externalKill) this.onKill('external', role);
    else if (signal === 'SIGKILL' && incarnation.lastSelfKill) {
      this.onKill(incarnation.lastSelfKill.kind, incarnation.lastSelfKill.detail);
    } else {
      this.unexpectedExits.push(`${role} exited (code ${code}, signal ${signal}): ${incarnation.stderrTail}`);
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

  /** SIGKILLs the running incarnation from outside, once it is ready; its 'close' promotes the spare. */
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
